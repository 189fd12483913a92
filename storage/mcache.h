/* mcache.h - a bounded in-memory cache of resolved manifests: (repository, tag or digest) ->
 * digest, media type, size, child flag. meta_manifest_resolve answers from it, so a manifest
 * GET or HEAD in the common case makes no database round trip.
 *
 * Exactness in one process: every meta_* call that can change what a resolve answers (a manifest
 * put or delete, a tag delete, create or move, a repository or project delete, gc dropping
 * blobs) bumps a generation before and after its database write (meta_manifest.c, meta_repo.c,
 * meta_project.c, meta_blob.c): the repository's (striped over MCACHE_GEN_STRIPES counters) or
 * the global one. An entry remembers both generations as they were *before* its database read
 * and is used only while both are unchanged. Hence a resolve never answers from an entry filled
 * before a write that completed before the resolve began, nor from one filled during a write.
 *
 * Across processes (replicas sharing one database) no generation is shared: a replica cannot see
 * another one's PUT. Entries keyed by a tag therefore live at most tag_ttl_ms (configuration
 * `manifest_cache_tag_ttl_ms`, 1000 by default, 0 = never cached): a tag moved on another replica
 * is seen here within that time. Entries keyed by a digest name immutable bytes and live until
 * evicted or invalidated here; a manifest deleted on another replica may still be answered here
 * until then (its blob file stays until gc, which spares young files). The cache holds nothing a
 * replica cannot lose: it starts empty. Thread-safe: slots are guarded by striped mutexes,
 * generations are atomics. */
#ifndef BERTH_STORAGE_MCACHE_H
#define BERTH_STORAGE_MCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/berr.h"
#include "common/digest.h"

#define MCACHE_ENTRIES_DEFAULT 4096
#define MCACHE_ENTRIES_MAX 1048576
#define MCACHE_TAG_TTL_MS_DEFAULT 1000
#define MCACHE_GEN_STRIPES 256

struct mcache;
struct meta_manifest;

/* The generations seen before a database read (mcache_snap), handed back to mcache_put. */
struct mcache_snap {
    uint64_t global, repo;
    int64_t at_ms; /* monotonic: a tag entry's age counts from here */
};

/* mcache_new: *out is new (mcache_free), holding at most `entries` (1..MCACHE_ENTRIES_MAX)
 * resolved references; tag-keyed ones live tag_ttl_ms (0: tags are never cached). */
int mcache_new(struct mcache **out, size_t entries, unsigned tag_ttl_ms, struct berr *err);
/* mcache_free: NULL is a no-op. */
void mcache_free(struct mcache *mc);

/* mcache_get copies the entry of (repo, ref) into *out when one is valid: 1 hit, 0 miss. */
int mcache_get(struct mcache *mc, const struct repo_name *repo, const struct reference *ref,
               struct meta_manifest *out);
/* mcache_snap reads the generations that cover repo; take it before the database read whose
 * answer goes to mcache_put. */
void mcache_snap(struct mcache *mc, const struct repo_name *repo, struct mcache_snap *snap);
/* mcache_put stores what the database answered for (repo, ref) (m borrowed), unless a write
 * bumped a generation since snap was taken. */
void mcache_put(struct mcache *mc, const struct repo_name *repo, const struct reference *ref,
                const struct mcache_snap *snap, const struct meta_manifest *m);
/* mcache_bump invalidates every entry of repo (NULL: of every repository). Writers call it
 * before and after their database write. */
void mcache_bump(struct mcache *mc, const struct repo_name *repo);

/* ---- facts of the /v2/ authorization path ----
 * A project by name (meta_project_get_cached) and a user's role in a project
 * (meta_member_role_cached), under their own generation, bumped before and after every write to
 * projects, members or users (meta_project.c, meta_member.c, meta_user.c), and kept at most
 * tag_ttl_ms (0: never cached) for the same reason as tags: another replica's change. */
void mcache_facts_snap(struct mcache *mc, struct mcache_snap *snap);
void mcache_facts_bump(struct mcache *mc);
struct meta_project_info;
int mcache_project_get(struct mcache *mc, const char *name, struct meta_project_info *out);
void mcache_project_put(struct mcache *mc, const char *name, const struct mcache_snap *snap,
                        const struct meta_project_info *p);
int mcache_role_get(struct mcache *mc, int64_t project_id, int64_t user_id, int *role);
void mcache_role_put(struct mcache *mc, int64_t project_id, int64_t user_id,
                     const struct mcache_snap *snap, int role);

/* counters for /metrics and tests */
uint64_t mcache_hits(const struct mcache *mc);
uint64_t mcache_misses(const struct mcache *mc);

#endif
