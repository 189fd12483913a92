/* admin_key.c - offline maintenance of the shared token signing key.
 *
 *   berth admin rotate-token-key [--data DIR] [--config FILE]
 *
 * The store is the configuration's `metadata` (PostgreSQL, shared by replicas) or, without it,
 * DATA/berth.db.
 * Stores a new signing key in the metadata store (auth/token_ring.h): every server over that
 * store signs new tokens with it within TOK_RING_REFRESH_S, tokens signed with the previous key
 * keep verifying until they expire (the previous key is kept for token_ttl_s plus the
 * verification leeway, then dropped by the maintenance purge). The store must exist already
 * and must have been started on once (it holds the first key); the command may run while
 * servers do. Prints the new kid. Exit status: 0 done, 1 failed, 2 usage error. No shared
 * state. */
#include "cli/cmds.h"

#include <stdio.h>

#include "auth/authn.h"
#include "auth/token_ring.h"
#include "cli/admin_common.h"
#include "config/config.h"
#include "storage/meta.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: berth admin rotate-token-key [--data DIR] [--config FILE]\n\n"
               "Stores a new token signing key that every server over this metadata store signs\n"
               "with from then on; tokens signed with the previous key stay valid until they\n"
               "expire (token_ttl_s), then that key is dropped.\n");
}

static int rotate(const struct berth_config *cfg)
{
    char kid[TOK_KID_LEN + 1];
    struct meta *m = NULL;
    struct berr e;
    int rc = 1;

    if (adm_meta_open(&m, cfg, "admin") < 0)
        return 1;
    if (tok_ring_rotate(m, (int64_t)cfg->token_ttl_s + AUTHN_BEARER_LEEWAY_S, kid, &e) < 0) {
        fprintf(stderr, "berth admin rotate-token-key: %s\n", e.msg);
        goto out;
    }
    printf("token signing key rotated: new kid %s\n", kid);
    rc = 0;
out:
    meta_close(m);
    return rc;
}

static const struct adm_offline rotate_cmd = {"admin", "rotate-token-key", "admin rotate-token-key",
                                              usage, 0};

int cmd_admin(int argc, char **argv)
{
    struct berth_config cfg;
    int status;

    if (adm_offline_config(&cfg, NULL, &status, &rotate_cmd, argc, argv) < 0)
        return status;
    return rotate(&cfg);
}
