/* keyring_int.h - what puller/keyring.c and puller/keyring_match.c share, and nobody else.
 *
 * KEY_MAX bounds a registry key: keyring_match.c treats a longer key as unparseable, and
 * keyring.c sizes the buffer it normalizes into with it, so a key that normalizes always fits. */
#ifndef BERTH_PULLER_KEYRING_INT_H
#define BERTH_PULLER_KEYRING_INT_H

#define KEY_MAX 2048 /* bytes of a registry key, before and after normalization */

#endif
