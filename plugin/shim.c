#include <stddef.h>
#include "shim.h"

// struct flbgo_input_plugin {char *name @0; struct flb_api *api @8;
//                            void *i_ins @16; void *context @24}
#define PLUGIN_API 8
#define PLUGIN_INS 16
#define PLUGIN_CTX 24
// context (Fluent Bit >= 4.1): {int coll_fd @0; void *remote_context @8; void *proxy @16}
#define CTX_REMOTE 8
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
int lau_has_context(void *plugin) { return field(plugin, PLUGIN_CTX) != NULL; }

void lau_set_remote(void *plugin, uintptr_t id)
{
    char *ctx = field(plugin, PLUGIN_CTX);
    if (ctx) {
        *(void **)(ctx + CTX_REMOTE) = (void *)id;
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
