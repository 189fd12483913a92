/* audit.h - the audit log: who did what, to what, when and from where (Harbor's /audit-logs
 * fields: id, username, resource, resource_type, operation, op_time; plus the client address and
 * whether the operation succeeded, as Harbor's auditlog-exts operation_result).
 *
 * Recording is cheap: audit_record copies the event into an in-memory queue under a mutex and
 * returns; pull events are frequent and must not cost a database write each. The queue is
 * written in one BEGIN IMMEDIATE transaction per audit_flush: by a background thread every
 * flush interval (audit_start), by the recording thread when the queue is full, and by readers
 * that want to see every event recorded so far (the API flushes before it lists). A flush that
 * fails puts its events back; when they no longer fit the oldest are dropped and counted in
 * the log.
 *
 * Operations: "create", "update", "delete", "pull", "login" (a failed login: result false).
 * Resource types: "artifact", "tag", "blob", "repository", "project", "project_member",
 * "robot", "user". Thread-safe. */
#ifndef BERTH_STORAGE_AUDIT_H
#define BERTH_STORAGE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"

#define AUDIT_USER_MAX 255
#define AUDIT_WORD_MAX 31      /* operation, resource_type */
#define AUDIT_RESOURCE_MAX 511 /* repo:tag, repo@digest, names */
#define AUDIT_CLIENT_MAX 63
#define AUDIT_PROJECT_MAX 255
#define AUDIT_PENDING_DEFAULT 1024
#define AUDIT_LIST_MAX 100

struct meta;
struct audit;

struct audit_event {
    int64_t id; /* 0 until stored */
    int64_t op_time;
    char username[AUDIT_USER_MAX + 1]; /* "" = anonymous */
    char operation[AUDIT_WORD_MAX + 1];
    char resource_type[AUDIT_WORD_MAX + 1];
    char resource[AUDIT_RESOURCE_MAX + 1];
    char project[AUDIT_PROJECT_MAX + 1]; /* project name the event belongs to, "" = none */
    int64_t project_id;                  /* resolved from project when stored; 0 = none */
    char client[AUDIT_CLIENT_MAX + 1];
    bool result;
};

/* audit_new: m is borrowed and must outlive the result; max_pending (0 = default) caps the
 * queue. *out is new (audit_free). */
int audit_new(struct audit **out, struct meta *m, size_t max_pending, struct berr *err);
/* audit_free stops the flusher (if started), flushes what is pending (logged on failure) and
 * frees. NULL is a no-op. */
void audit_free(struct audit *a);
/* audit_start starts the background flusher (every interval_ms, >= 10). */
int audit_start(struct audit *a, unsigned interval_ms, struct berr *err);

/* audit_record queues one event at the current time; every string may be NULL (""), and is cut
 * to its field's size. a == NULL is a no-op (auditing off). Returns -1 only when the event was
 * dropped (queue full and the flush failed); callers usually go on. */
int audit_record(struct audit *a, const char *username, const char *operation,
                 const char *resource_type, const char *resource, const char *project,
                 const char *client, bool result);
/* audit_flush writes every pending event. *flushed (may be NULL) counts them. a == NULL: 0. */
int audit_flush(struct audit *a, uint64_t *flushed, struct berr *err);
/* audit_pending: events queued, not yet written. */
size_t audit_pending(struct audit *a);

/* A list filter: NULL strings = any; *_fuzzy makes the value a substring match. from/to
 * (epoch seconds, inclusive; 0 = open). project_id > 0 limits to one project. */
struct audit_q {
    const char *username;
    bool username_fuzzy;
    const char *operation;
    bool operation_fuzzy;
    const char *resource_type;
    bool resource_type_fuzzy;
    const char *resource;
    bool resource_fuzzy;
    int64_t from;
    int64_t to;
    int64_t project_id;
    bool oldest_first; /* default newest first */
    int64_t offset;
};
/* audit_list fills out[0..cap) (cap <= AUDIT_LIST_MAX); *n written, *total matching. */
int audit_list(struct meta *m, const struct audit_q *q, struct audit_event *out, size_t cap,
               size_t *n, int64_t *total, struct berr *err);
/* audit_purge deletes events older than `before` (op_time < before); *removed may be NULL. */
int audit_purge(struct meta *m, int64_t before, int64_t *removed, struct berr *err);

#endif
