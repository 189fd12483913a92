/* pulls_json.c - JSON documents of the pull analytics (time series, top lists, stale items)
 * and the parsers of their arguments.
 *
 * Invariants:
 *   1. A series document lists each key once, in the order the storage gave it first (the
 *      storage sorts by bucket, then key); its points are in time order and never empty.
 *   2. Times are RFC 3339 UTC strings; a time never reached (never pulled) is null.
 * Pure functions; no state, any thread. */
#include "api/pulls_json.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/parse.h"
#include "common/util.h"

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* days_from_civil: days since 1970-01-01 of y-m-d (proleptic Gregorian) */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era;
    int64_t yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int pulls_time_parse(const char *s, int64_t *out)
{
    size_t len = s != NULL ? strlen(s) : 0;
    int y, mo, d, h = 0, mi = 0, se = 0;
    uint64_t v;

    *out = 0;
    if (len == 0)
        return -1;
    if (len <= 12 && parse_u64(&v, s, len) == 0) {
        *out = (int64_t)v;
        return 0;
    }
    if (len != 10 && len != 20)
        return -1;
    if (s[4] != '-' || s[7] != '-' || digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 ||
        digits(s + 8, 2, &d) < 0)
        return -1;
    if (len == 20 &&
        (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
         digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &se) < 0))
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

int pulls_duration_parse(const char *s, int64_t *out)
{
    size_t len = s != NULL ? strlen(s) : 0;
    uint64_t mul = 1;
    uint64_t v;

    *out = 0;
    if (len == 0)
        return -1;
    switch (s[len - 1]) {
    case 's':
        len--;
        break;
    case 'm':
        mul = 60;
        len--;
        break;
    case 'h':
        mul = 3600;
        len--;
        break;
    case 'd':
        mul = 86400;
        len--;
        break;
    case 'w':
        mul = 7 * 86400;
        len--;
        break;
    default:
        break;
    }
    if (len == 0 || len > 9 || parse_u64(&v, s, len) < 0 || v == 0)
        return -1;
    *out = (int64_t)(v * mul);
    return 0;
}

static const char *const group_names[] = {"", "tag", "artifact", "user", "client", "repository"};

int pulls_group_parse(const char *s, enum pulls_group *out)
{
    *out = PULLS_GROUP_NONE;
    if (s == NULL || s[0] == '\0')
        return 0;
    for (size_t i = 1; i < sizeof(group_names) / sizeof(group_names[0]); i++) {
        if (strcmp(s, group_names[i]) == 0) {
            *out = (enum pulls_group)i;
            return 0;
        }
    }
    return -1;
}

const char *pulls_group_name(enum pulls_group g)
{
    size_t i = (size_t)g;

    return i < sizeof(group_names) / sizeof(group_names[0]) ? group_names[i] : "";
}

static json_t *time_json(int64_t t)
{
    char buf[32];

    if (t <= 0)
        return json_null();
    time_rfc3339(t, buf, sizeof(buf));
    return json_string(buf);
}

/* set: json_object_set_new that clears *ok on failure (takes v) */
static void set(json_t *o, const char *k, json_t *v, int *ok)
{
    if (o == NULL || v == NULL || json_object_set_new(o, k, v) < 0)
        *ok = 0;
}

static json_t *window_json(const struct pulls_q *q, int *ok)
{
    json_t *j = json_object();

    set(j, "from", time_json(q->from), ok);
    set(j, "to", time_json(q->to), ok);
    return j;
}

json_t *pulls_series_json(const struct pulls_q *q, const struct pulls_point *pts, size_t n)
{
    int ok = 1;
    json_t *doc = window_json(q, &ok);
    json_t *series = json_array();
    json_t *s, *points;

    set(doc, "granularity", json_string(q->granularity == PULLS_HOUR_S ? "hour" : "day"), &ok);
    set(doc, "group_by",
        q->group == PULLS_GROUP_NONE ? json_null() : json_string(pulls_group_name(q->group)), &ok);
    for (size_t i = 0; ok && i < n; i++) {
        size_t k;
        json_t *one = NULL;

        /* find the series of this key (few keys: a linear search is enough) */
        json_array_foreach(series, k, s)
        {
            if (strcmp(json_string_value(json_object_get(s, "key")), pts[i].key) == 0 &&
                strcmp(json_string_value(json_object_get(s, "kind")) != NULL
                               ? json_string_value(json_object_get(s, "kind"))
                               : "",
                       pts[i].kind) == 0) {
                one = s;
                break;
            }
        }
        if (one == NULL) {
            one = json_pack("{s:s,s:I,s:I,s:o,s:[]}", "key", pts[i].key, "pulls", (json_int_t)0,
                            "child_fetches", (json_int_t)0, "last_pull_time", json_null(),
                            "points");
            if (one != NULL && pts[i].kind[0] != '\0')
                set(one, "kind", json_string(pts[i].kind), &ok);
            if (one == NULL || json_array_append_new(series, one) < 0) {
                ok = 0;
                break;
            }
        }
        points = json_object_get(one, "points");
        if (json_array_append_new(points,
                                  json_pack("{s:o,s:I,s:I}", "time", time_json(pts[i].bucket),
                                            "pulls", (json_int_t)pts[i].pulls, "child_fetches",
                                            (json_int_t)pts[i].child_fetches)) < 0) {
            ok = 0;
            break;
        }
        set(one, "pulls",
            json_integer(json_integer_value(json_object_get(one, "pulls")) +
                         (json_int_t)pts[i].pulls),
            &ok);
        set(one, "child_fetches",
            json_integer(json_integer_value(json_object_get(one, "child_fetches")) +
                         (json_int_t)pts[i].child_fetches),
            &ok);
        {
            const char *lt = json_string_value(json_object_get(one, "last_pull_time"));
            char buf[32];

            time_rfc3339(pts[i].last, buf, sizeof(buf));
            if (lt == NULL || strcmp(buf, lt) > 0)
                set(one, "last_pull_time", time_json(pts[i].last), &ok);
        }
    }
    set(doc, "series", series, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *pulls_top_json(const struct pulls_q *q, const struct pulls_point *pts, size_t n)
{
    int ok = 1;
    json_t *doc = window_json(q, &ok);
    json_t *items = json_array();
    json_t *it;

    set(doc, "by", json_string(q->group == PULLS_GROUP_TAG ? "tag" : "repository"), &ok);
    for (size_t i = 0; ok && i < n; i++) {
        it = json_pack("{s:s,s:I,s:I,s:I,s:o}", "repository_name", pts[i].repo, "pulls",
                       (json_int_t)pts[i].pulls, "child_fetches", (json_int_t)pts[i].child_fetches,
                       "pull_count", (json_int_t)(pts[i].pulls + pts[i].child_fetches),
                       "last_pull_time", time_json(pts[i].last));
        if (it != NULL && q->group == PULLS_GROUP_TAG)
            set(it, "tag", json_string(pts[i].key), &ok);
        if (it == NULL || json_array_append_new(items, it) < 0)
            ok = 0;
    }
    set(doc, "items", items, &ok);
    if (!ok) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *pulls_stale_item_json(const struct pulls_stale *s, int tags)
{
    char dstr[DIGEST_STR_LEN + 1];
    int ok = 1;
    json_t *j;

    digest_format(&s->digest, dstr, sizeof(dstr));
    j = json_pack("{s:s,s:s,s:I,s:o,s:o,s:I}", "repository_name", s->repo, "digest", dstr, "size",
                  (json_int_t)s->size, "push_time", time_json(s->push_time), "pull_time",
                  time_json(s->pull_time), "pull_count", (json_int_t)s->pull_count);
    if (j != NULL && tags)
        set(j, "tag", json_string(s->tag), &ok);
    if (j == NULL || !ok) {
        json_decref(j);
        return NULL;
    }
    return j;
}
