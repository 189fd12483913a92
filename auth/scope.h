/* scope.h - the Docker token scope grammar: what a client asks the token endpoint for.
 *
 * A scope string holds space-separated scopes, each `type[(class)]:name:actions`:
 *   repository:library/alpine:pull
 *   repository:host:5000/p/r:pull,push      (the name may itself contain ':')
 *   repository(plugin):vieux/sshfs:pull     (optional resource class)
 *   registry:catalog:*
 * As Harbor does, the type is the text before the first ':', the actions the text after the
 * last ':', and the name everything in between. Actions are comma-separated; pull, push,
 * delete and `*` become bits, any other well-formed word is kept in `unknown` (the caller
 * grants nothing for it). Repeated scope= query parameters are parsed one by one into the same
 * list (scope_list_add); entries naming the same type, class and name are merged, their actions
 * OR'ed, as distribution's token server does.
 *
 * Rejected as BERR_BAD_REQUEST ("invalid scope"): fewer than three ':'-separated parts, an
 * empty or non [a-z0-9] type, a bad class, an empty name or one with control characters or
 * bytes >= 0x7f, an action word outside [a-z0-9_*-] or longer than SCOPE_ACTION_MAX, more than
 * SCOPE_MAX_COUNT distinct entries, an input longer than SCOPE_MAX_LEN. Empty action words
 * ("pull,,push", a trailing ',' or an empty action part) are skipped, as Harbor does. The name is
 * not checked against the repository grammar here: the caller parses it (common/digest.h) before
 * it touches storage. No shared state; all calls are thread-safe on distinct lists. */
#ifndef BERTH_AUTH_SCOPE_H
#define BERTH_AUTH_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/berr.h"

/* Action bits, shared with auth/token.h's struct tok_access. */
#define SCOPE_ACT_PULL 1u
#define SCOPE_ACT_PUSH 2u
#define SCOPE_ACT_DELETE 4u
#define SCOPE_ACT_STAR 8u /* "*": every action on the resource (registry:catalog:*) */
#define SCOPE_ACT_KNOWN (SCOPE_ACT_PULL | SCOPE_ACT_PUSH | SCOPE_ACT_DELETE | SCOPE_ACT_STAR)

#define SCOPE_MAX_LEN 8192    /* bytes of one scope string (one scope= parameter) */
#define SCOPE_MAX_COUNT 64    /* distinct entries in one list */
#define SCOPE_TYPE_MAX 64     /* bytes of a type or a class */
#define SCOPE_NAME_MAX 512    /* bytes of a name (room for host:port/ + a 255-byte repository) */
#define SCOPE_ACTION_MAX 32   /* bytes of one action word */
#define SCOPE_UNKNOWN_MAX 256 /* bytes of the comma-joined unknown actions of one entry */

struct scope {
    char *type;       /* new: "repository", "registry", ... */
    char *rclass;     /* new: "plugin" for repository(plugin):..., NULL when absent */
    char *name;       /* new: everything between the first and the last ':' */
    unsigned actions; /* SCOPE_ACT_* bits */
    char *unknown;    /* new: unrecognised action words joined by ',', NULL when none */
};

struct scope_list {
    struct scope *items; /* owned; n entries in input order (merged entries keep the first) */
    size_t n;
    size_t cap;
};

/* scope_list_init makes an empty list (no allocation). */
void scope_list_init(struct scope_list *l);
/* scope_list_cleanup frees every entry and leaves l empty; safe on an empty list. */
void scope_list_cleanup(struct scope_list *l);

/* scope_parse initialises *out and parses s into it. On failure *out is empty and
 * BERR_BAD_REQUEST (bad grammar, limits) or BERR_INTERNAL (out of memory) is set.
 * An empty string or one of spaces only gives an empty list and succeeds. */
int scope_parse(struct scope_list *out, const char *s, struct berr *err);
/* scope_list_add parses s and merges its scopes into l (another scope= parameter). On failure
 * l is exactly as it was before the call. */
int scope_list_add(struct scope_list *l, const char *s, struct berr *err);

/* scope_action_bit maps one action word to its bit; 0 when the word is not one of
 * pull, push, delete, "*". */
unsigned scope_action_bit(const char *word, size_t len);
/* scope_action_name is the word for one bit ("pull"), NULL for anything but a single known bit;
 * static storage. */
const char *scope_action_name(unsigned bit);
/* scope_allows: the entry's bits grant `action` (one SCOPE_ACT_* bit); "*" grants all. */
bool scope_allows(unsigned actions, unsigned action);

#endif
