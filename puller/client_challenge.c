/* client_challenge.c - WWW-Authenticate challenges (RFC 9110 11.6.1) as the registry client
 * reads them: one or more challenges, each a scheme and auth-params (token or quoted-string
 * values), token68 forms skipped.
 *   1. Only realm, service, scope and error are kept; other parameters are accepted and
 *      ignored, as Docker does. A value that does not fit its field refuses the whole header.
 *   2. Quoted strings follow RFC 9110 (common/parse.c): a control byte or an unterminated
 *      string refuses the header.
 * Pure: no I/O, no shared state; safe on any thread. The client's authentication state (which
 * uses these) lives in client.c. */
#include "puller/client.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"
#include "puller/client_int.h"

const char *client_skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool is_tchar(char ch)
{
    /* strchr finds the terminator too: '\0' must be ruled out first */
    return ch != '\0' && (isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* read_token copies a token into out; returns the char after it, NULL when none or too long */
static const char *read_token(const char *p, char *out, size_t cap)
{
    size_t n = 0;

    while (is_tchar(*p)) {
        if (n + 1 >= cap)
            return NULL;
        out[n++] = *p++;
    }
    out[n] = '\0';
    return n == 0 ? NULL : p;
}

/* read_quoted reads the quoted-string at p; NULL when unterminated, invalid or too long */
static const char *read_quoted(const char *p, char *out, size_t cap)
{
    size_t used;

    return parse_quoted(out, cap, &used, p, strlen(p)) < 0 ? NULL : p + used;
}

static int set_param(struct client_challenge *ch, const char *name, const char *val)
{
    struct {
        const char *name;
        char *dst;
        size_t cap;
    } fields[] = {
            {"realm", ch->realm, sizeof(ch->realm)},
            {"service", ch->service, sizeof(ch->service)},
            {"scope", ch->scope, sizeof(ch->scope)},
            {"error", ch->error, sizeof(ch->error)},
    };

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (strcasecmp(name, fields[i].name) != 0)
            continue;
        size_t len = strlen(val);
        if (len >= fields[i].cap)
            return -1;
        memcpy(fields[i].dst, val, len + 1);
        return 0;
    }
    return 0; /* unknown parameters are allowed and ignored */
}

int client_challenge_parse(struct client_challenge *out, size_t cap, size_t *n, const char *value)
{
    const char *p = value;
    char name[64], val[CLIENT_SCOPE_MAX > CLIENT_REALM_MAX ? CLIENT_SCOPE_MAX : CLIENT_REALM_MAX];
    struct client_challenge *cur = NULL;

    *n = 0;
    for (;;) {
        const char *q;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return *n > 0 ? 0 : -1;
        q = read_token(p, name, sizeof(name));
        if (q == NULL)
            return -1;
        q = client_skip_ows(q);
        if (*q == '=' && cur != NULL) {
            /* an auth-param of the current challenge */
            q = client_skip_ows(q + 1);
            if (*q == '"')
                q = read_quoted(q, val, sizeof(val));
            else
                q = read_token(q, val, sizeof(val));
            if (q == NULL || set_param(cur, name, val) < 0)
                return -1;
            q = client_skip_ows(q);
            if (*q != ',' && *q != '\0')
                return -1;
            p = q;
            continue;
        }
        /* a new challenge: scheme name */
        if (*n >= cap || strlen(name) >= sizeof(out[0].scheme))
            return -1;
        cur = &out[(*n)++];
        memset(cur, 0, sizeof(*cur));
        memcpy(cur->scheme, name, strlen(name) + 1);
        p = q;
        /* token68 form ("Negotiate abc==") : skip it, it carries nothing we use */
        if (is_tchar(*p) || *p == '/' || *p == '=') {
            const char *t = p;
            while (is_tchar(*t) || *t == '/')
                t++;
            if (*t == '=') {
                const char *e = t;
                while (*e == '=')
                    e++;
                e = client_skip_ows(e);
                if (*e == ',' || *e == '\0') {
                    p = e;
                    continue;
                }
            }
        }
    }
}
