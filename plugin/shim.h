// C glue between Fluent Bit's proxy ABI and the Go side. Offsets are LP64
// (x86-64, arm64), as read in Fluent Bit's src/flb_plugin_proxy.c and
// src/proxy/go/go.h (v3.2, v4.0, v4.1, v4.2, v5.1).
#ifndef LINUX_AUDIT_SHIM_H
#define LINUX_AUDIT_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

// struct flbgo_input_plugin (the Init argument).
void *lau_api(void *plugin);
void *lau_ins(void *plugin);

// What Init's context field points to.
enum {
    LAU_CTX_NONE = 0,    // NULL (no Fluent Bit release does this)
    LAU_CTX_OLD = 1,     // Fluent Bit <= 4.0: no per-instance context in callbacks
    LAU_CTX_NEW = 2,     // Fluent Bit >= 4.1: remote_context goes to the ...Ctx callbacks
    LAU_CTX_UNKNOWN = 3, // a layout this plugin does not know
};
int lau_context_abi(void *plugin);
// Stores h as remote_context (LAU_CTX_NEW only; a no-op otherwise).
void lau_set_remote(void *plugin, void *h);
// Call before failing Init (see shim.c; LAU_CTX_OLD only).
void lau_detach_plugin(void *plugin);

// struct flb_api calls; every one tolerates a NULL api or function slot.
char *lau_get_property(void *plugin, const char *key);
void lau_log(void *api, int level, const char *msg);
int lau_log_check(void *api, void *ins, int level);

// The hand-over (handover.c): the batch Fluent Bit takes at its next
// callback, filled by the plugin's Go side. Fluent Bit's callbacks are
// answered in C and never enter the Go runtime.
struct lau_handover;
struct lau_handover_state {
    uint64_t handed;    // the last generation handed to Fluent Bit
    uint64_t accepted;  // the last generation Fluent Bit copied (cleanup, or the next callback)
    size_t room;        // bytes the open batch can still take before buffer_max_size
    size_t open;        // bytes in the open batch
    uint64_t callbacks, batches, bytes;
    double max_callback_ms;
};
struct lau_handover *lau_handover_new(size_t max);
// Appends n bytes to the open batch and returns its generation.
uint64_t lau_handover_append(struct lau_handover *h, const void *p, size_t n);
void lau_handover_state(struct lau_handover *h, struct lau_handover_state *st);
// Closes h: callbacks hand nothing more; the open batch is freed. h itself
// stays allocated (a late callback may still name it).
void lau_handover_close(struct lau_handover *h);
// The instance the callbacks without context mean (Fluent Bit <= 4.0).
void lau_handover_set_last(struct lau_handover *h);

#endif
