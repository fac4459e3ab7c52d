// C glue between Fluent Bit's proxy ABI and the Go side. Offsets are LP64
// (x86-64, arm64), as read in Fluent Bit's src/flb_plugin_proxy.c and
// src/proxy/go/go.h (v3.2, v4.0, v4.1, v4.2, v5.1).
#ifndef LINUX_AUDIT_SHIM_H
#define LINUX_AUDIT_SHIM_H

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
// Stores id as remote_context (LAU_CTX_NEW only; a no-op otherwise).
void lau_set_remote(void *plugin, uintptr_t id);
// Call before failing Init (see shim.c; LAU_CTX_OLD only).
void lau_detach_plugin(void *plugin);

// struct flb_api calls; every one tolerates a NULL api or function slot.
char *lau_get_property(void *plugin, const char *key);
void lau_log(void *api, int level, const char *msg);
int lau_log_check(void *api, void *ins, int level);

#endif
