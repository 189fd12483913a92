/* config.c (fuzz) - the config file parser and config_set/config_validate on any bytes.
 *
 * The input is written to a private temp file and loaded over the defaults; it is also split at
 * its first NUL into a key and a value for config_set. Promises checked: every string field
 * stays NUL-terminated, a failed config_set leaves the struct unchanged, and the error message
 * is a terminated string. */
#include "tests/fuzz/fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "common/mem.h"

static void need(int cond)
{
    if (!cond)
        abort();
}

static void check_terminated(const struct berth_config *c)
{
    need(memchr(c->listen, '\0', sizeof(c->listen)) != NULL);
    need(memchr(c->data_dir, '\0', sizeof(c->data_dir)) != NULL);
    need(memchr(c->public_url, '\0', sizeof(c->public_url)) != NULL);
    need(memchr(c->log_level, '\0', sizeof(c->log_level)) != NULL);
    need(memchr(c->token_service, '\0', sizeof(c->token_service)) != NULL);
    need(memchr(c->token_issuer, '\0', sizeof(c->token_issuer)) != NULL);
    need(memchr(c->robot_prefix, '\0', sizeof(c->robot_prefix)) != NULL);
}

static void fuzz_file(const uint8_t *data, size_t size)
{
    static char path[64];
    struct berth_config cfg;
    struct berr err;
    size_t off = 0;
    int fd;

    if (path[0] == '\0') {
        int w = snprintf(path, sizeof(path), "/tmp/berth-fuzz-config-%ld.conf", (long)getpid());
        need(w > 0 && (size_t)w < sizeof(path));
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* no temp file, nothing to test; not a bug in the parser */
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (close(fd) < 0 || off < size) {
        (void)unlink(path);
        return;
    }
    config_defaults(&cfg);
    berr_clear(&err);
    if (config_load(&cfg, path, &err) == 0) {
        check_terminated(&cfg);
        if (config_validate(&cfg, &err) < 0)
            need(err.code == BERR_BAD_REQUEST);
    } else {
        need(err.code == BERR_BAD_REQUEST);
        check_terminated(&cfg);
    }
    need(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
    (void)unlink(path); /* the next input rewrites it anyway */
}

static void fuzz_set(const uint8_t *data, size_t size)
{
    struct berth_config cfg, before;
    struct berr err;
    char *copy = mem_malloc(size + 2);
    const char *key, *value;

    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    copy[size] = '\0';
    copy[size + 1] = '\0';
    key = copy;
    value = copy + strlen(copy) + 1;
    if (value > copy + size)
        value = copy + size + 1;
    config_defaults(&cfg);
    memcpy(&before, &cfg, sizeof(cfg));
    if (config_set(&cfg, key, value, &err) < 0)
        need(memcmp(&cfg, &before, sizeof(cfg)) == 0);
    else
        (void)config_validate(&cfg, &err); /* may refuse; must not crash */
    check_terminated(&cfg);
    mem_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (size_t)64 * 1024)
        return 0;
    fuzz_file(data, size);
    fuzz_set(data, size);
    return 0;
}
