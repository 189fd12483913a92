/* vgate.h - the budget of password checks: at most `slots` password KDFs run at once, at most
 * `queue` more wait for a slot, each for at most wait_ms; any other check is refused at once
 * with BERR_TOOMANYREQUESTS and a Retry-After of VGATE_RETRY_S. A check of 600,000 PBKDF2
 * iterations holds its request thread for a few hundred milliseconds, so with
 * slots + queue < the HTTP threads a flood of logins (with any names, from any addresses) can
 * never hold every request thread: pings, pulls by bearer token or by credentials already in
 * authn's cache keep being answered.
 *
 * Thread-safe: one mutex guards the counters, waiters sleep on a condition variable. */
#ifndef BERTH_AUTH_VGATE_H
#define BERTH_AUTH_VGATE_H

#include <stdint.h>

#include "common/berr.h"

#define VGATE_RETRY_S 1
#define VGATE_WAIT_MS_MAX 10000

struct vgate;

/* vgate_new: slots >= 1 (0 is taken as 1), queue >= 0, wait_ms <= VGATE_WAIT_MS_MAX (larger is
 * cut to it). *out is new (vgate_free). */
int vgate_new(struct vgate **out, unsigned slots, unsigned queue, unsigned wait_ms,
              struct berr *err);
/* vgate_free: no thread may be inside the gate. NULL is a no-op. */
void vgate_free(struct vgate *g);

/* vgate_enter takes a slot (0; give it back with vgate_leave), waiting up to wait_ms when every
 * slot is taken and fewer than `queue` checks wait. Otherwise -1, BERR_TOOMANYREQUESTS in err
 * and *retry_after_s = VGATE_RETRY_S (else 0). */
int vgate_enter(struct vgate *g, unsigned *retry_after_s, struct berr *err);
void vgate_leave(struct vgate *g);

/* vgate_refused: checks refused since vgate_new (for logs and tests). */
uint64_t vgate_refused(struct vgate *g);

#endif
