/* ui_assets.h - the web UI files embedded into the binary by scripts/embed.sh.
 * The table ends with an all-NULL entry; ui_assets_count excludes it. */
#ifndef BERTH_API_UI_ASSETS_H
#define BERTH_API_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted */
};

extern const struct ui_asset ui_assets[];
extern const unsigned ui_assets_count;

#endif
