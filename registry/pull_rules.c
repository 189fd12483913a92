/* pull_rules.c - the counting rules of a pull that depend on the request's words: the client
 * family from the User-Agent, and the configured exclusions.
 *
 * Families are recognised by the product tokens the clients send (checked against the clients'
 * sources and the black-box tests): docker "docker/<v> go/...", containerd and ctr
 * "containerd/<v>", kubelet through CRI "containerd/..." or "cri-o/...", podman, buildah and
 * skopeo "containers/<v> (github.com/containers/image)" or their own names, crane and ko
 * "go-containerregistry/<v>" or "crane/", helm "Helm/<v>", berth pull "berth-pull/<v>".
 * Matching is case-insensitive on the tokens, in the order written below: a User-Agent naming
 * two families goes to the first (docker's names only docker). Pure functions, no state. */
#include "registry/pull_rules.h"

#include <fnmatch.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* ci_contains: needle (lower case) appears in hay, case-insensitively */
static bool ci_contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    }
    return false;
}

const char *pull_client_family(const char *ua)
{
    static const struct {
        const char *token;
        const char *family;
    } rules[] = {
            {"docker/", "docker"},        {"docker-client", "docker"},
            {"containerd", "containerd"}, {"kubelet", "containerd"},
            {"cri-o", "containerd"},      {"containers/", "podman"},
            {"podman", "podman"},         {"buildah", "podman"},
            {"skopeo", "podman"},         {"go-containerregistry", "crane"},
            {"crane", "crane"},           {"helm", "helm"},
            {"berth-pull", "berth"},
    };

    if (ua == NULL)
        return "other";
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (ci_contains(ua, rules[i].token))
            return rules[i].family;
    }
    return "other";
}

/* list_any calls match(item, arg) for each comma-separated item of list (blanks trimmed) */
static bool list_any(const char *list, const char *arg,
                     bool (*match)(const char *, size_t, const char *))
{
    const char *s = list;

    while (s != NULL && *s != '\0') {
        const char *e = strchr(s, ',');
        size_t len = e != NULL ? (size_t)(e - s) : strlen(s);
        const char *b = s;

        while (len > 0 && (*b == ' ' || *b == '\t')) {
            b++;
            len--;
        }
        while (len > 0 && (b[len - 1] == ' ' || b[len - 1] == '\t'))
            len--;
        if (len > 0 && match(b, len, arg))
            return true;
        s = e != NULL ? e + 1 : NULL;
    }
    return false;
}

static bool name_eq(const char *item, size_t len, const char *who)
{
    return strlen(who) == len && memcmp(item, who, len) == 0;
}

static bool agent_match(const char *item, size_t len, const char *ua)
{
    char pat[512];

    if (len >= sizeof(pat))
        return false; /* config items are shorter than the config's string cap */
    memcpy(pat, item, len);
    pat[len] = '\0';
    return fnmatch(pat, ua, 0) == 0;
}

bool pull_excluded(const char *users, const char *agents, const char *who, const char *ua)
{
    if (ua != NULL && strcmp(ua, "harbor-registry-client") == 0)
        return true;
    if (who != NULL && who[0] != '\0' && list_any(users, who, name_eq))
        return true;
    return ua != NULL && list_any(agents, ua, agent_match);
}
