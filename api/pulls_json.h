/* pulls_json.h - the JSON of the pull analytics endpoints (api/api_pulls.c), shared with
 * `berth stats` offline (cli/stats.c) so both print the same documents; and the parsers of
 * their time and duration arguments. No state. */
#ifndef BERTH_API_PULLS_JSON_H
#define BERTH_API_PULLS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "storage/pulls.h"

/* pulls_time_parse: Unix seconds ("1733300000"), a UTC date ("2026-12-04") or RFC 3339 UTC
 * ("2026-12-04T10:00:00Z"). -1 when s is none of them. */
int pulls_time_parse(const char *s, int64_t *out);
/* pulls_duration_parse: seconds with an optional suffix s, m, h, d or w ("7d"); > 0. -1 else. */
int pulls_duration_parse(const char *s, int64_t *out);
/* pulls_group_parse: "tag", "artifact", "user", "client", "repository" or NULL/"" (none). */
int pulls_group_parse(const char *s, enum pulls_group *out);
const char *pulls_group_name(enum pulls_group g);

/* pulls_series_json: {"granularity","from","to","group_by","series":[{"key","kind"?,
 * "pulls","child_fetches","last_pull_time","points":[{"time","pulls","child_fetches"}]}]}:
 * one series per key, its non-empty buckets in time order (pts as meta_pulls_series gives
 * them). New; NULL when out of memory. */
json_t *pulls_series_json(const struct pulls_q *q, const struct pulls_point *pts, size_t n);
/* pulls_top_json: {"from","to","by","items":[{"repository_name","tag"?,"pulls",
 * "child_fetches","pull_count","last_pull_time"}]}. */
json_t *pulls_top_json(const struct pulls_q *q, const struct pulls_point *pts, size_t n);
/* pulls_stale_item_json: one stale artifact or tag {"repository_name","digest","tag"?,"size",
 * "push_time","pull_time" (null: never),"pull_count"}. */
json_t *pulls_stale_item_json(const struct pulls_stale *s, int tags);

#endif
