/* pg.c - the PostgreSQL backend's connection pool and the helpers its entity files
 * (pg_<entity>.c) build on: parameters, cached prepared statements, error mapping,
 * transactions, lists and paging.
 *
 * The pool is fixed at pg_pool_open (from meta_open): nconns libpq connections to one database,
 * each given to one thread at a time. Each connection is set up with client_encoding UTF8 and a
 * notice processor that drops the server's NOTICEs (CREATE ... IF NOT EXISTS would print them
 * on stderr). Invariants:
 *   1. A connection is either in free_idx or borrowed by exactly one thread (mu guards both).
 *   2. A borrowed connection goes back with no transaction open (pg_conn_put rolls back,
 *      logging, if a caller forgot) and no result pending (results are read synchronously).
 *   3. A slot's statement is prepared on a connection at most once per session: sql[q] is set
 *      only after PQprepare succeeded, and cleared when the connection is reset.
 *   4. A connection that libpq reports lost (CONNECTION_BAD) is reset by pg_conn_get before
 *      its next use, so a restarted server costs the calls in flight, not the process.
 *   5. The location string holds the password: it is kept for reconnects and never logged;
 *      log lines name the database by pg_url_where's "host:port/dbname".
 * Thread-safe: everything mutable is in struct pg_db under mu, or in a borrowed connection. */
#include "storage/pg_int.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/mem.h"
#include "common/util.h"
#include "storage/meta_walk.h"

#define PG_POOL_MAX 256
#define PG_LOG_MSG_MAX 512

/* ---- location ---- */

void pg_url_where(const char *url, char *out, size_t cap)
{
    PQconninfoOption *opts;
    const char *host = NULL, *port = NULL, *db = NULL;
    char *emsg = NULL;
    char raw[256];
    int n;

    opts = PQconninfoParse(url, &emsg);
    if (opts == NULL) {
        PQfreemem(emsg); /* NULL is a no-op; the message may quote the URL */
        (void)snprintf(out, cap, "(unparsable location)");
        return;
    }
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        if (o->val == NULL)
            continue;
        if (strcmp(o->keyword, "host") == 0 ||
            (host == NULL && strcmp(o->keyword, "hostaddr") == 0))
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "dbname") == 0)
            db = o->val;
    }
    n = snprintf(raw, sizeof(raw), "%s:%s/%s", host != NULL ? host : "localhost",
                 port != NULL ? port : "5432", db != NULL ? db : "");
    if (n < 0)
        raw[0] = '\0';
    (void)log_escape(out, cap, raw);
    PQconninfoFree(opts);
}

/* ---- errors ---- */

static bool state_is(const char *st, const char *code)
{
    return st != NULL && strcmp(st, code) == 0;
}

int pg_fail(struct pg_conn *c, const PGresult *r, const char *what, struct berr *err)
{
    const char *st = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char esc[PG_LOG_MSG_MAX];
    char raw[PG_LOG_MSG_MAX];
    size_t len;

    if (msg == NULL)
        msg = c->pc != NULL ? PQerrorMessage(c->pc) : "no connection";
    /* libpq's messages end in a newline; the line is ours */
    len = strlen(msg);
    if (len >= sizeof(raw))
        len = sizeof(raw) - 1;
    memcpy(raw, msg, len);
    raw[len] = '\0';
    while (len > 0 && (raw[len - 1] == '\n' || raw[len - 1] == ' '))
        raw[--len] = '\0';
    if (st != NULL && strlen(st) == 5)
        memcpy(c->sqlstate, st, 6);
    else
        c->sqlstate[0] = '\0';
    if (c->pc == NULL || PQstatus(c->pc) == CONNECTION_BAD)
        c->broken = true;
    log_msg(LOG_ERROR, "meta: %s: %s (postgres %s, %s)", what, log_escape(esc, sizeof(esc), raw),
            c->sqlstate[0] != '\0' ? c->sqlstate : "-", c->owner->where);
    if (err == NULL)
        return -1;
    if (state_is(st, "23505"))
        return berr_set(err, BERR_CONFLICT, "conflict");
    if (state_is(st, "53100"))
        return berr_set(err, BERR_STORAGE_FULL, "%s", BERR_STORAGE_FULL_MSG);
    if (state_is(st, "22021"))
        return berr_set(err, BERR_BAD_REQUEST, "text is not valid UTF-8");
    /* the server gone (connection class 08, shutdown 57P01-57P03): 503, a client may retry */
    if (c->broken || (st != NULL && (strncmp(st, "08", 2) == 0 || strncmp(st, "57P0", 4) == 0)))
        return berr_set(err, BERR_UNAVAILABLE, "metadata database unavailable");
    return berr_set(err, BERR_INTERNAL, "internal error");
}

/* ---- parameters ---- */

void pg_params_init(struct pg_params *p)
{
    p->n = 0;
    p->ndig = 0;
    p->overflow = false;
}

static bool p_room(struct pg_params *p)
{
    if (p->n >= PG_MAX_PARAMS) {
        p->overflow = true;
        return false;
    }
    return true;
}

void pg_p_text(struct pg_params *p, const char *s)
{
    if (p_room(p))
        p->v[p->n++] = s;
}

void pg_p_null(struct pg_params *p)
{
    pg_p_text(p, NULL);
}

void pg_p_i64(struct pg_params *p, int64_t v)
{
    if (!p_room(p))
        return;
    (void)snprintf(p->num[p->n], PG_NUM_LEN, "%" PRId64, v); /* 20 digits and a sign fit */
    p->v[p->n] = p->num[p->n];
    p->n++;
}

void pg_p_bool(struct pg_params *p, bool b)
{
    pg_p_text(p, b ? "t" : "f");
}

void pg_p_digest(struct pg_params *p, const struct digest *d)
{
    if (p->ndig >= (int)(sizeof(p->dig) / sizeof(p->dig[0]))) {
        p->overflow = true;
        return;
    }
    digest_format(d, p->dig[p->ndig], DIGEST_STR_LEN + 1);
    pg_p_text(p, p->dig[p->ndig]);
    p->ndig++;
}

void pg_p_repo(struct pg_params *p, const struct repo_name *r)
{
    pg_p_text(p, r->s);
}

void pg_p_name(struct pg_params *p, const struct meta_list_q *q)
{
    pg_p_text(p, q != NULL ? q->name : NULL);
    pg_p_bool(p, q != NULL && q->fuzzy);
}

void pg_p_sort(struct pg_params *p, const char *sort)
{
    pg_p_text(p, sort != NULL && sort[0] != '\0' ? sort : NULL);
}

/* utf8_seq: length of the valid UTF-8 sequence at s (1..4), 0 when none starts there */
static size_t utf8_seq(const unsigned char *s)
{
    size_t n, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0; /* also stops at the NUL */
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    /* overlong forms, surrogates and beyond U+10FFFF are not UTF-8 */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

const char *pg_utf8(char *buf, size_t cap, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0, n;

    while (u[i] != 0 && utf8_seq(u + i) != 0)
        i += utf8_seq(u + i);
    if (u[i] == 0)
        return s;
    for (i = 0; u[i] != 0;) {
        n = utf8_seq(u + i);
        if (n == 0) {
            if (o + 1 >= cap)
                break;
            buf[o++] = '?';
            i++;
            continue;
        }
        if (o + n >= cap)
            break;
        memcpy(buf + o, u + i, n);
        o += n;
        i += n;
    }
    buf[o] = '\0';
    return buf;
}

/* ---- running statements ---- */

void pg_res_free(PGresult *r)
{
    PQclear(r); /* NULL is a no-op */
}

static void slot_name(char *out, size_t cap, enum pg_q q)
{
    (void)snprintf(out, cap, "q%d", (int)q);
}

/* prepare_slot prepares slot q on c when it is not yet (invariant 3) */
static int prepare_slot(struct pg_conn *c, enum pg_q q, const char *sql, struct berr *err)
{
    char name[16];
    PGresult *r;

    if (c->sql[q] != NULL) {
        /* one slot, one text: a slot reused for other SQL would run the wrong statement */
        assert(c->sql[q] == sql || strcmp(c->sql[q], sql) == 0);
        return 0;
    }
    slot_name(name, sizeof(name), q);
    r = PQprepare(c->pc, name, sql, 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        (void)pg_fail(c, r, "prepare", err);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    c->sql[q] = sql;
    return 0;
}

int pg_run(PGresult **out, struct pg_conn *c, enum pg_q q, const char *sql,
           const struct pg_params *p, struct berr *err)
{
    const char *const *vals = p != NULL ? p->v : NULL;
    int n = p != NULL ? p->n : 0;
    char name[16];
    PGresult *r;
    ExecStatusType st;
    int rows;

    if (out != NULL)
        *out = NULL;
    if (p != NULL && p->overflow) {
        log_msg(LOG_ERROR, "meta: too many parameters for one statement");
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (c->pc == NULL || c->broken)
        return pg_fail(c, NULL, "connection", err);
    if (q == PG_Q_NONE) {
        r = PQexecParams(c->pc, sql, n, NULL, vals, NULL, NULL, 0);
    } else {
        assert(q >= 0 && q < PG_Q_COUNT);
        if (prepare_slot(c, q, sql, err) < 0)
            return -1;
        slot_name(name, sizeof(name), q);
        r = PQexecPrepared(c->pc, name, n, vals, NULL, NULL, 0);
    }
    st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK) {
        rows = PQntuples(r);
    } else if (st == PGRES_COMMAND_OK) {
        const char *t = PQcmdTuples(r);
        long v = t[0] != '\0' ? strtol(t, NULL, 10) : 0;

        rows = v < 0 || v > INT_MAX ? INT_MAX : (int)v;
    } else {
        (void)pg_fail(c, r, "query", err);
        PQclear(r);
        return -1;
    }
    c->sqlstate[0] = '\0';
    if (out != NULL)
        *out = r;
    else
        PQclear(r);
    return rows;
}

int pg_run_i64(struct pg_conn *c, enum pg_q q, const char *sql, const struct pg_params *p,
               int64_t *v, struct berr *err)
{
    PGresult *r = NULL;
    int rc = pg_run(&r, c, q, sql, p, err);

    if (v != NULL)
        *v = rc > 0 && PQnfields(r) > 0 ? pg_i64(r, 0, 0) : 0;
    PQclear(r);
    if (rc < 0)
        return -1;
    return rc > 0 ? 1 : 0;
}

int pg_exec_sql(struct pg_conn *c, const char *sql, struct berr *err)
{
    PGresult *r;
    ExecStatusType st;

    if (c->pc == NULL || c->broken)
        return pg_fail(c, NULL, "connection", err);
    r = PQexec(c->pc, sql);
    st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        (void)pg_fail(c, r, "exec", err);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    c->sqlstate[0] = '\0';
    return 0;
}

/* ---- columns ---- */

bool pg_is_null(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) != 0;
}

int64_t pg_i64(const PGresult *r, int row, int col)
{
    const char *s;

    if (PQgetisnull(r, row, col))
        return 0;
    s = PQgetvalue(r, row, col);
    /* the server formats integers; a bigint always fits */
    return (int64_t)strtoll(s, NULL, 10);
}

bool pg_bool(const PGresult *r, int row, int col)
{
    const char *s;

    if (PQgetisnull(r, row, col))
        return false;
    s = PQgetvalue(r, row, col);
    /* boolean columns come as "t"/"f"; an integer column read as a flag is non-zero */
    if (s[0] == 't')
        return true;
    if (s[0] == 'f')
        return false;
    return strtoll(s, NULL, 10) != 0;
}

int pg_text(const PGresult *r, int row, int col, char *out, size_t cap, struct berr *err)
{
    int n;

    if (PQgetisnull(r, row, col)) {
        out[0] = '\0';
        return 0;
    }
    n = PQgetlength(r, row, col);
    if (n < 0 || (size_t)n >= cap) {
        log_msg(LOG_ERROR, "meta: stored text of %d bytes exceeds %zu", n, cap - 1);
        out[0] = '\0';
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    memcpy(out, PQgetvalue(r, row, col), (size_t)n);
    out[n] = '\0';
    return 0;
}

int pg_digest(const PGresult *r, int row, int col, struct digest *out, struct berr *err)
{
    struct berr perr;

    if (PQgetisnull(r, row, col) ||
        digest_parse(out, PQgetvalue(r, row, col), (size_t)PQgetlength(r, row, col), &perr) < 0) {
        log_msg(LOG_ERROR, "meta: stored digest is malformed");
        return berr_set(err, BERR_INTERNAL, "internal error");
    }
    return 0;
}

/* ---- transactions ---- */

static void tx_rollback(struct pg_conn *c)
{
    struct berr e;

    if (c->pc == NULL || c->broken || PQstatus(c->pc) == CONNECTION_BAD ||
        PQtransactionStatus(c->pc) == PQTRANS_IDLE)
        return; /* a lost session's transaction is gone with it */
    if (pg_exec_sql(c, "ROLLBACK", &e) < 0)
        log_msg(LOG_ERROR, "meta: rollback failed");
}

int pg_tx_begin(struct pg_conn *c, struct berr *err)
{
    assert(!c->in_tx);
    c->sqlstate[0] = '\0';
    /* a failed ROLLBACK may have left the session inside a transaction */
    tx_rollback(c);
    if (pg_exec_sql(c, "BEGIN ISOLATION LEVEL READ COMMITTED", err) < 0)
        return -1;
    c->in_tx = true;
    return 0;
}

int pg_tx_end(struct pg_conn *c, int rc, struct berr *err)
{
    PGresult *r;
    char keep[6];

    assert(c->in_tx);
    c->in_tx = false;
    if (rc == 0 && !c->broken && PQtransactionStatus(c->pc) == PQTRANS_INERROR) {
        /* a statement failed and the caller went on: COMMIT would quietly roll back */
        log_msg(LOG_ERROR, "meta: commit of a failed transaction");
        rc = berr_set(err, BERR_INTERNAL, "internal error");
    }
    if (rc == 0) {
        r = PQexec(c->pc, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            rc = pg_fail(c, r, "commit", err);
        } else if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
            log_msg(LOG_ERROR, "meta: commit ended in %s", PQcmdStatus(r));
            rc = berr_set(err, BERR_INTERNAL, "internal error");
        }
        PQclear(r);
        if (rc == 0)
            return 0;
    }
    memcpy(keep, c->sqlstate, sizeof(keep)); /* pg_tx_run looks at the failure, not the ROLLBACK */
    tx_rollback(c);
    memcpy(c->sqlstate, keep, sizeof(keep));
    return -1;
}

int pg_write_begin(struct pg_conn **out, struct meta *m, struct berr *err)
{
    struct pg_conn *c = pg_conn_get(m);

    *out = NULL;
    if (pg_tx_begin(c, err) < 0) {
        pg_conn_put(c);
        return -1;
    }
    *out = c;
    return 0;
}

int pg_write_end(struct pg_conn *c, int rc, struct berr *err)
{
    rc = pg_tx_end(c, rc, err);
    pg_conn_put(c);
    return rc;
}

int pg_tx_run(struct meta *m, pg_tx_fn fn, void *ctx, struct berr *err)
{
    struct pg_conn *c;
    char state[6];
    bool again;
    int attempt;
    int rc = -1;

    for (attempt = 1; attempt <= PG_TX_RETRIES; attempt++) {
        rc = pg_write_begin(&c, m, err);
        if (rc < 0)
            return -1;
        rc = fn(c, ctx, err);
        rc = pg_tx_end(c, rc, err);
        again = rc < 0 && (state_is(c->sqlstate, "40001") || state_is(c->sqlstate, "40P01"));
        memcpy(state, c->sqlstate, sizeof(state));
        pg_conn_put(c);
        if (!again || attempt == PG_TX_RETRIES)
            return rc;
        log_msg(LOG_WARN, "meta: transaction retried after %s (attempt %d)", state, attempt);
    }
    return rc;
}

/* ---- pool ---- */

/* drop notices (CREATE TABLE IF NOT EXISTS says "already exists, skipping") */
static void notice_drop(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int conn_setup(struct pg_conn *c, struct berr *err)
{
    (void)PQsetNoticeProcessor(c->pc, notice_drop, NULL);
    memset(c->sql, 0, sizeof(c->sql)); /* a new session has no prepared statements */
    c->broken = false;
    c->sqlstate[0] = '\0';
    return pg_exec_sql(c, "SET client_encoding TO 'UTF8'", err);
}

static int conn_open(struct pg_conn *c, struct pg_db *m, struct berr *err)
{
    /* Berth's defaults first, so a location that sets its own wins (the location is expanded
     * from dbname, expand_dbname = 1): a server that stops answering (a partition, a dead host)
     * is noticed by TCP keepalives within about a minute instead of hanging a call forever */
    static const char *const keys[] = {
            "application_name",    "connect_timeout",  "keepalives", "keepalives_idle",
            "keepalives_interval", "keepalives_count", "dbname",     NULL};
    static const char *const defaults[] = {"berth", "10", "1", "30", "10", "3"};
    const char *vals[8];
    char esc[PG_LOG_MSG_MAX];

    for (size_t i = 0; i < 6; i++)
        vals[i] = defaults[i];
    vals[6] = m->conninfo;
    vals[7] = NULL;
    c->owner = m;
    c->pc = PQconnectdbParams(keys, vals, 1);
    if (c->pc == NULL) {
        log_msg(LOG_ERROR, "meta: cannot connect to %s: out of memory", m->where);
        return berr_set(err, BERR_INTERNAL, "cannot connect to database");
    }
    if (PQstatus(c->pc) != CONNECTION_OK) {
        log_msg(LOG_ERROR, "meta: cannot connect to %s: %s", m->where,
                log_escape(esc, sizeof(esc), PQerrorMessage(c->pc)));
        /* the server is not there (or refuses us): 503, a client may retry */
        return berr_set(err, BERR_UNAVAILABLE, "metadata database unavailable");
    }
    return conn_setup(c, err);
}

static void conn_reset(struct pg_conn *c)
{
    char esc[PG_LOG_MSG_MAX];
    struct berr e;

    log_msg(LOG_WARN, "meta: connection to %s lost; reconnecting", c->owner->where);
    PQreset(c->pc);
    memset(c->sql, 0, sizeof(c->sql));
    c->sqlstate[0] = '\0';
    if (PQstatus(c->pc) != CONNECTION_OK) {
        log_msg(LOG_ERROR, "meta: reconnect to %s failed: %s", c->owner->where,
                log_escape(esc, sizeof(esc), PQerrorMessage(c->pc)));
        return; /* stays broken: the next statement fails, the next borrow tries again */
    }
    if (conn_setup(c, &e) < 0)
        c->broken = true;
}

struct pg_conn *pg_conn_get(struct meta *mh)
{
    struct pg_db *m = pg_db(mh);
    struct pg_conn *c;

    (void)pthread_mutex_lock(&m->mu); /* default mutex: fails only when corrupt */
    while (m->nfree == 0)
        (void)pthread_cond_wait(&m->cv, &m->mu); /* spurious wakeups are re-checked */
    c = &m->conns[m->free_idx[--m->nfree]];
    (void)pthread_mutex_unlock(&m->mu);
    if (c->broken || PQstatus(c->pc) == CONNECTION_BAD)
        conn_reset(c);
    return c;
}

void pg_conn_put(struct pg_conn *c)
{
    struct pg_db *m = c->owner;

    if (c->in_tx) {
        log_msg(LOG_ERROR, "meta: connection returned inside a transaction; rolling back");
        (void)pg_tx_end(c, -1, NULL);
    }
    tx_rollback(c); /* a transaction opened by hand (pg_schema.c) would be idle otherwise */
    (void)pthread_mutex_lock(&m->mu);
    m->free_idx[m->nfree++] = (unsigned)(c - m->conns);
    (void)pthread_cond_signal(&m->cv);
    (void)pthread_mutex_unlock(&m->mu);
}

int pg_pool_open(struct pg_db **out, const char *url, unsigned pool_size, pg_setup_fn setup,
                 struct berr *err)
{
    struct pg_db *m;
    unsigned i;
    int rc = -1;

    *out = NULL;
    if (pool_size == 0 || pool_size > PG_POOL_MAX)
        return berr_set(err, BERR_INTERNAL, "database pool size must be 1..%d", PG_POOL_MAX);
    m = mem_calloc(1, sizeof(*m));
    if (m == NULL)
        return berr_sys(err, ENOMEM, "meta: allocate");
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        mem_free(m);
        return berr_sys(err, ENOMEM, "meta: mutex");
    }
    if (pthread_cond_init(&m->cv, NULL) != 0) {
        (void)pthread_mutex_destroy(&m->mu); /* unused */
        mem_free(m);
        return berr_sys(err, ENOMEM, "meta: condition variable");
    }
    pg_url_where(url, m->where, sizeof(m->where));
    m->conninfo = mem_strdup(url);
    m->conns = mem_calloc(pool_size, sizeof(*m->conns));
    m->free_idx = mem_calloc(pool_size, sizeof(*m->free_idx));
    if (m->conninfo == NULL || m->conns == NULL || m->free_idx == NULL) {
        rc = berr_sys(err, ENOMEM, "meta: allocate pool");
        goto out;
    }
    m->nconns = pool_size;
    /* the first connection migrates before the others exist */
    for (i = 0; i < pool_size; i++) {
        rc = conn_open(&m->conns[i], m, err);
        if (rc < 0)
            goto out;
        if (i == 0) {
            rc = setup(&m->conns[0], err);
            if (rc < 0)
                goto out;
        }
        m->free_idx[m->nfree++] = i;
    }
    m->ready = true;
    log_msg(LOG_INFO, "meta: PostgreSQL %s, %u connections", m->where, pool_size);
out:
    if (rc < 0) {
        pg_pool_close(&m->base);
        return -1;
    }
    *out = m;
    return 0;
}

void pg_pool_close(struct meta *mh)
{
    struct pg_db *m = pg_db(mh);
    unsigned i;

    if (m == NULL)
        return;
    if (m->conns != NULL) {
        if (m->ready && m->nfree != m->nconns)
            log_msg(LOG_ERROR, "meta: closing with %u connection(s) still borrowed",
                    m->nconns - m->nfree);
        for (i = 0; i < m->nconns; i++)
            PQfinish(m->conns[i].pc); /* NULL is a no-op */
    }
    if (m->conninfo != NULL)
        explicit_bzero(m->conninfo, strlen(m->conninfo)); /* the password */
    mem_free(m->conninfo);
    mem_free(m->conns);
    mem_free(m->free_idx);
    (void)pthread_cond_destroy(&m->cv); /* nobody waits: all connections are back */
    (void)pthread_mutex_destroy(&m->mu);
    mem_free(m);
}

/* ---- lists ---- */

int pg_list_run(struct meta *m, const struct pg_list *l, const void *q,
                const struct meta_list_q *lq, void *out, size_t cap, size_t *n, int64_t *total,
                struct berr *err)
{
    struct pg_params p;
    struct pg_conn *c;
    PGresult *r = NULL;
    size_t limit = lq->limit < cap ? lq->limit : cap;
    int rows;
    int rc;
    int i;

    *n = 0;
    *total = 0;
    if (l->sort_keys != NULL && !meta_ops_sort_ok(lq->sort, l->sort_keys))
        return berr_set(err, BERR_BAD_REQUEST, "unknown sort key");
    if (lq->offset < 0)
        return berr_set(err, BERR_BAD_REQUEST, "offset must not be negative");
    if (limit > META_LIST_MAX)
        limit = META_LIST_MAX;
    c = pg_conn_get(m);
    pg_params_init(&p);
    rc = l->bind(&p, q, true, err);
    if (rc == 0)
        rc = pg_run_i64(c, PG_Q_NONE, l->count_sql, &p, total, err);
    if (rc < 0 || limit == 0)
        goto out;
    pg_params_init(&p);
    rc = l->bind(&p, q, false, err);
    if (rc < 0)
        goto out;
    pg_p_i64(&p, (int64_t)limit);
    pg_p_i64(&p, lq->offset);
    rows = pg_run(&r, c, PG_Q_NONE, l->page_sql, &p, err);
    rc = rows < 0 ? -1 : 0;
    for (i = 0; rc == 0 && i < rows && *n < limit; i++) {
        rc = l->read(r, i, (char *)out + *n * l->elem, err);
        if (rc == 0)
            (*n)++;
    }
    pg_res_free(r);
out:
    pg_conn_put(c);
    if (rc < 0) {
        *n = 0;
        *total = 0;
        return -1;
    }
    if (rc > 0)
        rc = 0;
    return rc;
}

/* ---- paging over one text column ---- */

/* what page_fetch runs: the caller's query and its argument */
struct page_req {
    pg_page_query_fn query;
    const void *q;
};

/* page_fetch is meta_walk.h's fetch over a struct page_req */
static int page_fetch(struct meta *m, const void *arg, const char *after, unsigned want,
                      struct meta_page_batch *b, bool *extra, struct berr *err)
{
    const struct page_req *req = arg;
    struct pg_conn *c;
    struct pg_params p;
    PGresult *r = NULL;
    const char *sql = NULL;
    enum pg_q slot = PG_Q_NONE;
    int rows;
    int rc;

    b->n = 0;
    *extra = false;
    pg_params_init(&p);
    rc = req->query(&p, &sql, &slot, req->q, after, (int64_t)want + 1, err);
    if (rc < 0)
        return -1;
    c = pg_conn_get(m);
    rows = pg_run(&r, c, slot, sql, &p, err);
    pg_conn_put(c);
    if (rows < 0)
        return -1;
    for (int i = 0; i < rows; i++) {
        if (b->n == want) {
            *extra = true;
            break;
        }
        rc = pg_text(r, i, 0, b->s[b->n], sizeof(b->s[b->n]), err);
        if (rc < 0)
            break;
        b->n++;
    }
    pg_res_free(r);
    return rc < 0 ? -1 : 0;
}

int pg_page_strings(struct meta *m, pg_page_query_fn query, const void *q, const char *last,
                    unsigned n, meta_str_fn fn, void *ctx, bool *more, struct berr *err)
{
    struct page_req req = {query, q};

    return meta_page_walk(m, page_fetch, &req, last, n, fn, ctx, more, err);
}
