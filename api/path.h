/* path.h - route patterns (see routes.h): matching a split path, finding a parameter. Pure. */
#ifndef BERTH_API_PATH_H
#define BERTH_API_PATH_H

#include <stdbool.h>
#include <stddef.h>

/* api_path_match: whether pattern (segments after a leading '/', "{name}" for any one segment)
 * matches the path segments seg[0..n). */
bool api_path_match(const char *pattern, const char *const *seg, size_t n);
/* api_path_param: the index of the first segment of pattern written "{name}", -1 when none. */
int api_path_param(const char *pattern, const char *name);
/* api_path_project_param: the index of the project segment ({project_name_or_id} or
 * {project_name}), -1 when none. */
int api_path_project_param(const char *pattern);

#endif
