/* api_gc.h - garbage collection over the management API (api_gc.c): the handlers of the
 * /system/gc rows, and the two calls service.c makes around the server's life. */
#ifndef BERTH_API_API_GC_H
#define BERTH_API_API_GC_H

#include "api/api_int.h"

int api_gc_schedule(struct api_call *c); /* POST /system/gc/schedule: 201, 409 while running */
int api_gc_list(struct api_call *c);     /* GET /system/gc, newest first, paged */
int api_gc_get(struct api_call *c);      /* GET /system/gc/{gc_id} */
int api_gc_log(struct api_call *c);      /* GET /system/gc/{gc_id}/log, text/plain */

/* api_gc_startup marks the runs a restart cut short as Error; before the server starts. */
int api_gc_startup(struct meta *m, struct berr *err);
/* api_gc_wait returns once no run is going (before the registry's handles close; tests). */
void api_gc_wait(void);

#endif
