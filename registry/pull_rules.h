/* pull_rules.h - what a manifest GET counts as: the client family named by its User-Agent, and
 * whether configuration excludes it (scanners, mirrors). Pure functions of their arguments. */
#ifndef BERTH_REGISTRY_PULL_RULES_H
#define BERTH_REGISTRY_PULL_RULES_H

#include <stdbool.h>

/* pull_client_family names the client family of a User-Agent (NULL allowed): "docker",
 * "containerd" (containerd, ctr, kubelet, CRI), "podman" (podman, buildah, skopeo: the
 * containers/image library), "crane" (crane, go-containerregistry, ko), "helm", "berth" (berth
 * pull), or "other". The string is static. */
const char *pull_client_family(const char *ua);

/* pull_excluded: true when who (a user or full robot name, "" for anonymous) is one of the
 * comma-separated names of users, or ua (NULL allowed) matches one of the comma-separated
 * fnmatch patterns of agents. Harbor's own replication client ("harbor-registry-client") is
 * always excluded, as Harbor does. Blanks around list items are ignored. */
bool pull_excluded(const char *users, const char *agents, const char *who, const char *ua);

#endif
