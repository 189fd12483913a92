/* service_test.c - open a whole registry on a temp data directory with port 0, answer one
 * request over a real socket, run and stop it (service_stop before and during service_run, and a
 * stop signal), close it, reopen it (the admin user is not made twice), and fail to open on a
 * data directory that is a file, leaving nothing open. */
#include "service/service.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/test.h"

static char tmpdir[128];
static sigset_t stopset;

static void cfg_for(struct berth_config *cfg, const char *data)
{
    config_defaults(cfg);
    (void)snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", data); /* short test path */
    (void)snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:0");  /* any free port */
}

/* get_status sends one HTTP/1.0 request to 127.0.0.1:port and returns the status code */
static int get_status(unsigned port, const char *path)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    char req[256], resp[64];
    int fd, status = -1;
    ssize_t n;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    (void)snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
        n = read(fd, resp, sizeof(resp) - 1);
        if (n > 12) {
            resp[n] = '\0';
            if (sscanf(resp, "HTTP/1.%*d %d", &status) != 1)
                status = -1;
        }
    }
    (void)close(fd); /* a read-only socket */
    return status;
}

static void *runner(void *arg)
{
    static int sig;

    sig = service_run(arg, &stopset);
    return &sig;
}

static int run_and_stop(struct service *svc, bool by_signal)
{
    pthread_t th;
    void *ret = NULL;
    struct timespec ts = {0, 20 * 1000 * 1000};

    if (pthread_create(&th, NULL, runner, svc) != 0)
        return -1;
    (void)nanosleep(&ts, NULL); /* either order of run and stop must work */
    if (by_signal)
        (void)pthread_kill(th, SIGINT);
    else
        service_stop(svc);
    (void)pthread_join(th, &ret);
    return ret != NULL ? *(int *)ret : -1;
}

static void test_open_run_close(void)
{
    struct berth_config cfg;
    struct service svc;
    struct berr err = {0};
    char data[256], path[300];
    struct stat st;
    unsigned port;

    (void)snprintf(data, sizeof(data), "%s/data", tmpdir); /* made by service_open */
    cfg_for(&cfg, data);
    CHECK_INT_EQ(service_open(&svc, &cfg, &err), 0);
    port = service_port(&svc);
    CHECK(port != 0);
    CHECK(svc.created_admin);
    CHECK(svc.reg.cfg == &svc.cfg);
    CHECK_INT_EQ(get_status(port, "/v2/"), 401); /* the registry answers, auth first */
    CHECK_INT_EQ(get_status(port, "/api/v2.0/ping"), 200);

    service_stop(&svc); /* before run: run returns at once */
    CHECK_INT_EQ(service_run(&svc, &stopset), 0);
    CHECK_INT_EQ(run_and_stop(&svc, false), 0);
    CHECK_INT_EQ(run_and_stop(&svc, true), SIGINT);
    CHECK_INT_EQ(get_status(port, "/v2/"), 401); /* run/stop do not close */

    service_close(&svc);
    CHECK(svc.reg.meta == NULL && svc.srv == NULL);
    service_close(&svc);                        /* zeroed: a no-op */
    CHECK_INT_EQ(get_status(port, "/v2/"), -1); /* nothing listens any more */
    (void)snprintf(path, sizeof(path), "%s/berth.db", data);
    CHECK_INT_EQ(stat(path, &st), 0);
    (void)snprintf(path, sizeof(path), "%s/token.key", data);
    CHECK_INT_EQ(stat(path, &st), 0);
    CHECK_INT_EQ(st.st_mode & 0777, 0600);

    /* the same data again: the admin exists already */
    CHECK_INT_EQ(service_open(&svc, &cfg, &err), 0);
    CHECK(!svc.created_admin);
    CHECK(service_port(&svc) != 0);
    service_close(&svc);
}

static void test_open_fails_cleanly(void)
{
    struct berth_config cfg;
    struct service svc;
    struct berr err = {0};
    char file[256];
    int fd;

    (void)snprintf(file, sizeof(file), "%s/not-a-dir", tmpdir);
    fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    if (fd >= 0)
        CHECK_INT_EQ(close(fd), 0);
    cfg_for(&cfg, file);
    CHECK_INT_EQ(service_open(&svc, &cfg, &err), -1);
    CHECK(err.msg[0] != '\0');
    CHECK(svc.reg.meta == NULL && svc.srv == NULL && svc.reg.cfg == NULL);
    service_close(&svc); /* nothing left to close */
    CHECK_INT_EQ(service_port(&svc), 0);

    /* a listen address that cannot be bound: everything opened before it is closed again */
    {
        char data[256];
        (void)snprintf(data, sizeof(data), "%s/data2", tmpdir);
        cfg_for(&cfg, data);
        (void)snprintf(cfg.listen, sizeof(cfg.listen), "192.0.2.1:1"); /* not ours (TEST-NET) */
        CHECK_INT_EQ(service_open(&svc, &cfg, &err), -1);
        CHECK(svc.reg.meta == NULL && svc.reg.audit == NULL && svc.srv == NULL);
    }
}

int main(void)
{
    sigemptyset(&stopset);
    sigaddset(&stopset, SIGTERM);
    sigaddset(&stopset, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &stopset, NULL) != 0)
        return 2;
    (void)setenv("BERTH_ADMIN_PASSWORD", "Service-test-pw-1", 1);
    (void)setenv("BERTH_TEST_KDF_ITER", "1000", 1);
    log_set_level(LOG_WARN);
    test_mkdtemp(tmpdir, sizeof(tmpdir), "service-test");
    TEST_RUN(test_open_run_close);
    TEST_RUN(test_open_fails_cleanly);
    test_rm_rf(tmpdir);
    return test_summary();
}
