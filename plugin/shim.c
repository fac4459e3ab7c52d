#include <stddef.h>
#include <string.h>
#include "shim.h"

// struct flbgo_input_plugin {char *name @0; struct flb_api *api @8;
//                            void *i_ins @16; void *context @24; callbacks...}
#define PLUGIN_API 8
#define PLUGIN_INS 16
#define PLUGIN_CTX 24
// Its size up to Fluent Bit 4.0 (4 pointers, then cb_init, cb_collect,
// cb_cleanup, cb_exit); 4.1 added cb_collect_ctx and cb_cleanup_ctx.
#define PLUGIN_SIZE_OLD 64
// struct flb_plugin_proxy {def @0; api @8; instance @16; dso_handler @24;
//                          void *data @32; ...}, the same from 2.0 to 5.1;
// data is the struct flbgo_input_plugin Init receives.
#define PROXY_DATA 32
// What Init's context points to (flb_input_new() callocs it per instance):
//  >= 4.1: struct flb_plugin_input_proxy_context
//          {int coll_fd @0; void *remote_context @8; proxy @16}, 24 bytes
//  <= 4.0: struct flb_plugin_proxy_context
//          {void *remote_context @0; proxy @8}, 16 bytes, and the input
//          callbacks never receive it
#define NEW_CTX_REMOTE 8
#define NEW_CTX_PROXY 16
#define OLD_CTX_PROXY 8
// struct flb_api: 9 function pointers
#define API_INPUT_GET_PROPERTY 8
#define API_LOG_PRINT 32
#define API_INPUT_LOG_CHECK 40

typedef char *(*get_property_fn)(const char *key, void *ins);
typedef void (*log_print_fn)(int level, const char *file, int line, const char *fmt, ...);
typedef int (*log_check_fn)(void *ins, int level);

static void *field(void *base, size_t off)
{
    return base ? *(void **)((char *)base + off) : NULL;
}

void *lau_api(void *plugin) { return field(plugin, PLUGIN_API); }
void *lau_ins(void *plugin) { return field(plugin, PLUGIN_INS); }

// Both layouts start with 16 readable bytes, so the word @8 tells them
// apart without reading past either: the proxy pointer (<= 4.0, never
// NULL) or remote_context (>= 4.1, NULL until the plugin sets it). The
// proxy found either way must point back at the plugin struct; anything
// else is a layout this code does not know.
int lau_context_abi(void *plugin)
{
    char *ctx = field(plugin, PLUGIN_CTX);
    if (!ctx) {
        return LAU_CTX_NONE;
    }
    void *at8 = field(ctx, 8);
    if (at8) {
        return field(at8, PROXY_DATA) == plugin ? LAU_CTX_OLD : LAU_CTX_UNKNOWN;
    }
    void *proxy = field(ctx, NEW_CTX_PROXY);
    return proxy && field(proxy, PROXY_DATA) == plugin ? LAU_CTX_NEW : LAU_CTX_UNKNOWN;
}

void lau_set_remote(void *plugin, void *h)
{
    if (lau_context_abi(plugin) == LAU_CTX_NEW) {
        char *ctx = field(plugin, PLUGIN_CTX);
        *(void **)(ctx + NEW_CTX_REMOTE) = h;
    }
}

// Fluent Bit 2.0 to 4.0.2 (src/proxy/go/go.c, proxy_go_input_init) frees
// the plugin struct when Init fails but leaves proxy->data pointing at it;
// the other instances' exit and the unregister at shutdown then use the
// freed memory (SIGSEGV on exit, seen with v3.2.10). Before failing, point
// proxy->data at a copy: Fluent Bit then frees only its own original, and
// later frees the copy with free() at unregister, as it would the original.
// malloc here resolves to the same allocator as Fluent Bit's free() (the
// executable's, jemalloc in official builds), as every Go plugin that hands
// Fluent Bit buffers without a cleanup callback relies on. From 4.0.3 on
// the original is no longer freed and simply stays allocated (64 bytes,
// once per failed Init).
void lau_detach_plugin(void *plugin)
{
    if (lau_context_abi(plugin) != LAU_CTX_OLD) {
        return;
    }
    char *proxy = field(field(plugin, PLUGIN_CTX), OLD_CTX_PROXY);
    void *copy = malloc(PLUGIN_SIZE_OLD);
    if (copy) {
        memcpy(copy, plugin, PLUGIN_SIZE_OLD);
        *(void **)(proxy + PROXY_DATA) = copy;
    }
}

char *lau_get_property(void *plugin, const char *key)
{
    get_property_fn f = (get_property_fn)field(lau_api(plugin), API_INPUT_GET_PROPERTY);
    if (!f) {
        return NULL;
    }
    return f(key, lau_ins(plugin));
}

void lau_log(void *api, int level, const char *msg)
{
    log_print_fn f = (log_print_fn)field(api, API_LOG_PRINT);
    if (f) {
        f(level, "linux_audit", 0, "%s", msg);
    }
}

int lau_log_check(void *api, void *ins, int level)
{
    log_check_fn f = (log_check_fn)field(api, API_INPUT_LOG_CHECK);
    if (!f || !ins) {
        return 1;
    }
    return f(ins, level);
}
