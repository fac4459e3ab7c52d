// C glue between Fluent Bit's proxy ABI and the Go side. Offsets are LP64
// (x86-64, arm64), as read in Fluent Bit's src/flb_plugin_proxy.c and
// src/proxy/go/go.h (v4.2, v5.1).
#ifndef LINUX_AUDIT_SHIM_H
#define LINUX_AUDIT_SHIM_H

#include <stdint.h>
#include <stdlib.h>

// struct flbgo_input_plugin (the Init argument).
void *lau_api(void *plugin);
void *lau_ins(void *plugin);
int lau_has_context(void *plugin);
void lau_set_remote(void *plugin, uintptr_t id);

// struct flb_api calls; every one tolerates a NULL api or function slot.
char *lau_get_property(void *plugin, const char *key);
void lau_log(void *api, int level, const char *msg);
int lau_log_check(void *api, void *ins, int level);

#endif
