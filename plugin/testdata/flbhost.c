/*
 * flbhost: a stand-in for Fluent Bit that drives a Go input plugin (.so)
 * exactly as Fluent Bit v4.x/v5.x does (src/flb_plugin_proxy.c, src/proxy/go),
 * validates every buffer the plugin hands over as strictly as Fluent Bit
 * would, and prints each record as one JSON line.
 *
 *   gcc -O2 -Wall -Werror -o flbhost flbhost.c -ldl -lpthread
 *
 * usage: flbhost [options] PLUGIN.so -i NAME [-p key=value]... [-i NAME [-p key=value]...]...
 *
 *   -i NAME          start a new instance of input NAME (must be the name the
 *                    plugin registers); the -p options after it, up to the
 *                    next -i, are that instance's properties
 *   -p key=value     a property of the current instance (keys are looked up
 *                    case-insensitively; empty values and the keys Fluent
 *                    Bit's core consumes read as NULL)
 *   -fb 5.1|4.2|4.0|3.2  Fluent Bit ABI to emulate (default 5.1): the size
 *                    of the registration struct (48/40/32/32 bytes) and of the
 *                    plugin struct (80/80/64/64); 4.2 and 5.1 pass as context
 *                    a flb_plugin_input_proxy_context {coll_fd, remote_context,
 *                    proxy} and prefer the ...Ctx callbacks; 4.0 and 3.2 pass
 *                    a flb_plugin_proxy_context {remote_context, proxy} and
 *                    use the plain callbacks; 3.2 also frees the plugin
 *                    struct when Init fails, as Fluent Bit <= 4.0.2 does, and
 *                    then fails (exit 7) unless the plugin moved proxy->data
 *                    to a faithful copy (otherwise Fluent Bit <= 4.0.2 uses
 *                    the freed struct at exit and crashes)
 *   -fb unknown      5.1, but a context whose layout matches no release (all
 *                    zero): the plugin must refuse it
 *   -interval-ms N   collector interval (default 1000, as in Fluent Bit)
 *   -t SECONDS       stop after this long
 *   -n N             stop once N records were received (all instances)
 *   -idle SECONDS    stop after this long without records (not while paused)
 *   -o FILE          write records there instead of stdout
 *   -q               validate records but do not print them
 *   -log-level N     what input_log_check allows (1 error .. 5 trace; default 3)
 *   -selftest-bad K  feed the validator a built-in buffer of kind K and exit
 *                    (0 accepted, 4 rejected); K = good, ext-type, ext-len,
 *                    not-array, array3, not-map, meta-not-map, trailing,
 *                    truncated, utf8, nanos, key-not-string, bad-byte
 *
 * stdin, one command per line: pause, resume (every instance, on its own
 * thread, as Fluent Bit's backpressure does; no callbacks while paused),
 * quit. EOF on stdin is not a command.
 *
 * Record lines: {"i":INSTANCE,"t":SECONDS.NANOS,"r":{record}} plus "m":{...}
 * when the entry carries non-empty metadata. INSTANCE counts from 0.
 *
 * Shutdown, like Fluent Bit: Pause twice on every instance, then per instance
 * in reverse order PreExit(0) and Exit on its own thread, then Unregister
 * once on the main thread. At exit stderr gets
 *   FLBHOST_STATS {"records":N,"callbacks":N,"batches":N,"max_callback_ms":X,
 *                  "bytes":N,"max_batch":N,"maxrss_kb":N,"cpu_user_s":X,"cpu_sys_s":X,"wall_s":X,
 *                  "init_s":X,"first_record_s":X,"last_record_s":X}
 * (times in seconds since start; max_callback_ms is the longest single call
 * of the collect callback, not counting the host's own validation)
 *
 * A failed Init stops the host (exit 3), as it stops Fluent Bit >= 4.1;
 * Fluent Bit 3.2 instead carries on without that input.
 *
 * Exit codes: 0 ok, 2 usage, 3 Init failed, 4 invalid buffer, 5 ABI misuse
 * (Register/PreRegister), 6 cannot load the plugin, 7 the plugin left
 * Fluent Bit <= 4.0.2 a freed plugin struct (-fb 3.2).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---------- time ---------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---------- string builder ---------- */

struct sb {
    char *b;
    size_t n, cap;
};

static void sb_grow(struct sb *s, size_t add)
{
    if (s->n + add + 1 <= s->cap) {
        return;
    }
    size_t c = s->cap ? s->cap : 4096;
    while (c < s->n + add + 1) {
        c *= 2;
    }
    s->b = realloc(s->b, c);
    if (!s->b) {
        fprintf(stderr, "flbhost: out of memory\n");
        exit(1);
    }
    s->cap = c;
}

static void sb_put(struct sb *s, const char *p, size_t n)
{
    sb_grow(s, n);
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = 0;
}

static void sb_puts(struct sb *s, const char *p) { sb_put(s, p, strlen(p)); }

static void sb_printf(struct sb *s, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) {
        sb_put(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
    }
}

/* ---------- msgpack validation and JSON printing ---------- */

enum { T_NIL, T_BOOL, T_UINT, T_INT, T_FLOAT, T_STR, T_BIN, T_ARRAY, T_MAP, T_EXT };

struct obj {
    int t;
    uint64_t u;
    int64_t i;
    double f;
    int b;
    uint32_t len;        /* str/bin/ext bytes, array/map elements */
    int8_t ext;          /* ext type */
    const uint8_t *data; /* str/bin/ext payload */
};

struct rd {
    const uint8_t *p, *end;
    char err[160];
};

static int fail(struct rd *r, const char *fmt, ...)
{
    if (!r->err[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, sizeof r->err, fmt, ap);
        va_end(ap);
    }
    return 0;
}

static int need(struct rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        return fail(r, "truncated buffer (need %zu more bytes, have %zu)", n, (size_t)(r->end - r->p));
    }
    return 1;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static int rd_fixed(struct rd *r, int n, uint64_t *v)
{
    if (!need(r, n)) {
        return 0;
    }
    *v = be(r->p, n);
    r->p += n;
    return 1;
}

static int rd_payload(struct rd *r, struct obj *o)
{
    if (!need(r, o->len)) {
        return 0;
    }
    o->data = r->p;
    r->p += o->len;
    return 1;
}

/* reads one header (and the payload of str/bin/ext) */
static int rd_obj(struct rd *r, struct obj *o)
{
    uint64_t v;
    if (!need(r, 1)) {
        return 0;
    }
    const uint8_t *start = r->p;
    uint8_t c = *r->p++;
    memset(o, 0, sizeof *o);
    if (c <= 0x7f) { o->t = T_UINT; o->u = c; return 1; }
    if (c >= 0xe0) { o->t = T_INT; o->i = (int8_t)c; return 1; }
    if (c >= 0x80 && c <= 0x8f) { o->t = T_MAP; o->len = c & 0x0f; return 1; }
    if (c >= 0x90 && c <= 0x9f) { o->t = T_ARRAY; o->len = c & 0x0f; return 1; }
    if (c >= 0xa0 && c <= 0xbf) { o->t = T_STR; o->len = c & 0x1f; return rd_payload(r, o); }
    switch (c) {
    case 0xc0: o->t = T_NIL; return 1;
    case 0xc2: case 0xc3: o->t = T_BOOL; o->b = c == 0xc3; return 1;
    case 0xc4: case 0xc5: case 0xc6:
        if (!rd_fixed(r, 1 << (c - 0xc4), &v)) return 0;
        o->t = T_BIN; o->len = (uint32_t)v; return rd_payload(r, o);
    case 0xc7: case 0xc8: case 0xc9:
        if (!rd_fixed(r, 1 << (c - 0xc7), &v)) return 0;
        o->t = T_EXT; o->len = (uint32_t)v;
        if (!need(r, 1)) return 0;
        o->ext = (int8_t)*r->p++;
        return rd_payload(r, o);
    case 0xca: {
        if (!rd_fixed(r, 4, &v)) return 0;
        uint32_t u32 = (uint32_t)v; float fl; memcpy(&fl, &u32, 4);
        o->t = T_FLOAT; o->f = fl; return 1;
    }
    case 0xcb: {
        if (!rd_fixed(r, 8, &v)) return 0;
        double d; memcpy(&d, &v, 8);
        o->t = T_FLOAT; o->f = d; return 1;
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
        if (!rd_fixed(r, 1 << (c - 0xcc), &v)) return 0;
        o->t = T_UINT; o->u = v; return 1;
    case 0xd0: if (!rd_fixed(r, 1, &v)) return 0; o->t = T_INT; o->i = (int8_t)v; return 1;
    case 0xd1: if (!rd_fixed(r, 2, &v)) return 0; o->t = T_INT; o->i = (int16_t)v; return 1;
    case 0xd2: if (!rd_fixed(r, 4, &v)) return 0; o->t = T_INT; o->i = (int32_t)v; return 1;
    case 0xd3: if (!rd_fixed(r, 8, &v)) return 0; o->t = T_INT; o->i = (int64_t)v; return 1;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
        if (!need(r, 1)) return 0;
        o->t = T_EXT; o->ext = (int8_t)*r->p++; o->len = 1u << (c - 0xd4);
        return rd_payload(r, o);
    case 0xd9: case 0xda: case 0xdb:
        if (!rd_fixed(r, 1 << (c - 0xd9), &v)) return 0;
        o->t = T_STR; o->len = (uint32_t)v; return rd_payload(r, o);
    case 0xdc: case 0xdd:
        if (!rd_fixed(r, 2 << (c - 0xdc), &v)) return 0;
        o->t = T_ARRAY; o->len = (uint32_t)v; return 1;
    case 0xde: case 0xdf:
        if (!rd_fixed(r, 2 << (c - 0xde), &v)) return 0;
        o->t = T_MAP; o->len = (uint32_t)v; return 1;
    }
    r->p = start;
    return fail(r, "invalid msgpack byte 0x%02x", c);
}

static int utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        int k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; }
        else return 0;
        for (int j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += k + 1;
    }
    return 1;
}

static void json_str(struct sb *out, const uint8_t *s, size_t n, int bytes)
{
    static const char hex[] = "0123456789abcdef";
    sb_grow(out, n + 2);
    sb_put(out, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
        case '"': sb_put(out, "\\\"", 2); break;
        case '\\': sb_put(out, "\\\\", 2); break;
        case '\n': sb_put(out, "\\n", 2); break;
        case '\r': sb_put(out, "\\r", 2); break;
        case '\t': sb_put(out, "\\t", 2); break;
        case '\b': sb_put(out, "\\b", 2); break;
        case '\f': sb_put(out, "\\f", 2); break;
        default:
            if (c < 0x20 || c == 0x7f || (bytes && c >= 0x80)) {
                sb_put(out, e, 6);
            } else {
                sb_put(out, (const char *)&c, 1);
            }
        }
    }
    sb_put(out, "\"", 1);
}

/* validates one value (and prints it as JSON when out != NULL) */
static int walk(struct rd *r, struct sb *out, int depth)
{
    struct obj o;
    if (depth > 64) {
        return fail(r, "nesting deeper than 64");
    }
    if (!rd_obj(r, &o)) {
        return 0;
    }
    switch (o.t) {
    case T_NIL: if (out) sb_puts(out, "null"); return 1;
    case T_BOOL: if (out) sb_puts(out, o.b ? "true" : "false"); return 1;
    case T_UINT: if (out) sb_printf(out, "%" PRIu64, o.u); return 1;
    case T_INT: if (out) sb_printf(out, "%" PRId64, o.i); return 1;
    case T_FLOAT:
        if (out) {
            if (isfinite(o.f)) sb_printf(out, "%.17g", o.f);
            else sb_puts(out, "null");
        }
        return 1;
    case T_STR:
        if (!utf8_ok(o.data, o.len)) {
            return fail(r, "string is not valid UTF-8");
        }
        if (out) json_str(out, o.data, o.len, 0);
        return 1;
    case T_BIN: if (out) json_str(out, o.data, o.len, 1); return 1;
    case T_EXT:
        if (out) {
            if (o.ext == 0 && o.len == 8) sb_printf(out, "%" PRIu64 ".%09" PRIu64, be(o.data, 4), be(o.data + 4, 4));
            else sb_puts(out, "null");
        }
        return 1;
    case T_ARRAY:
        if (out) sb_puts(out, "[");
        for (uint32_t i = 0; i < o.len; i++) {
            if (out && i) sb_puts(out, ",");
            if (!walk(r, out, depth + 1)) return 0;
        }
        if (out) sb_puts(out, "]");
        return 1;
    case T_MAP:
        if (out) sb_puts(out, "{");
        for (uint32_t i = 0; i < o.len; i++) {
            struct obj k;
            if (out && i) sb_puts(out, ",");
            if (!rd_obj(r, &k)) return 0;
            if (k.t != T_STR) return fail(r, "map key is not a string");
            if (!utf8_ok(k.data, k.len)) return fail(r, "map key is not valid UTF-8");
            if (out) { json_str(out, k.data, k.len, 0); sb_puts(out, ":"); }
            if (!walk(r, out, depth + 1)) return 0;
        }
        if (out) sb_puts(out, "}");
        return 1;
    }
    return fail(r, "unknown object");
}

static int is_map(struct rd *r)
{
    if (!need(r, 1)) return 0;
    uint8_t c = *r->p;
    return (c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf;
}

static int rd_time(struct rd *r, uint32_t *sec, uint32_t *nsec)
{
    struct obj t;
    if (!rd_obj(r, &t)) return 0;
    if (t.t != T_EXT || t.ext != 0 || t.len != 8) {
        return fail(r, "time is not an EventTime (msgpack ext type 0, 8 bytes)");
    }
    *sec = (uint32_t)be(t.data, 4);
    *nsec = (uint32_t)be(t.data + 4, 4);
    if (*nsec >= 1000000000u) return fail(r, "EventTime nanoseconds %u >= 1e9", *nsec);
    return 1;
}

/* validates (out == NULL) or prints one buffer; returns the entries */
static long entries(const uint8_t *buf, size_t len, int inst, struct sb *out, char *err, size_t errlen)
{
    struct rd r = {buf, buf + len, {0}};
    long n = 0;
    while (r.p < r.end) {
        struct obj a, hdr;
        uint32_t sec = 0, nsec = 0;
        const uint8_t *meta = NULL;
        size_t at = r.p - buf;
        if (!rd_obj(&r, &a)) goto bad;
        if (a.t != T_ARRAY || a.len != 2) {
            fail(&r, "entry is not a 2-element array");
            goto bad;
        }
        struct rd peek = r;
        if (!rd_obj(&peek, &hdr)) { r = peek; goto bad; }
        if (hdr.t == T_ARRAY) {
            if (hdr.len != 2) { fail(&r, "entry header is not [time, metadata]"); goto bad; }
            r = peek;
            if (!rd_time(&r, &sec, &nsec)) goto bad;
            if (!is_map(&r)) { fail(&r, "metadata is not a map"); goto bad; }
            meta = r.p;
            if (!walk(&r, NULL, 1)) goto bad;
        } else if (!rd_time(&r, &sec, &nsec)) {
            goto bad;
        }
        if (!is_map(&r)) { fail(&r, "record is not a map"); goto bad; }
        const uint8_t *rec = r.p;
        if (!walk(&r, NULL, 1)) goto bad;
        if (out) {
            sb_printf(out, "{\"i\":%d,\"t\":%u.%09u,\"r\":", inst, sec, nsec);
            struct rd pr = {rec, buf + len, {0}};
            walk(&pr, out, 1);
            if (meta && *meta != 0x80) {
                sb_puts(out, ",\"m\":");
                struct rd pm = {meta, buf + len, {0}};
                walk(&pm, out, 1);
            }
            sb_puts(out, "}\n");
        }
        n++;
        continue;
    bad:
        snprintf(err, errlen, "entry %ld at byte %zu of %zu: %s", n, at, len, r.err[0] ? r.err : "invalid");
        return -1;
    }
    return n;
}

/* ---------- selftest ---------- */

static int selftest(const char *kind)
{
    uint8_t b[64];
    size_t n = 0;
#define PUT(...) do { const uint8_t x[] = {__VA_ARGS__}; memcpy(b + n, x, sizeof x); n += sizeof x; } while (0)
    int ext_type = 0, ext_len8 = 1, nanos_bad = 0;
    if (!strcmp(kind, "ext-type")) ext_type = 0xff;
    if (!strcmp(kind, "ext-len")) ext_len8 = 0;
    if (!strcmp(kind, "nanos")) nanos_bad = 1;
    if (!strcmp(kind, "not-array")) PUT(0x82); else if (!strcmp(kind, "array3")) PUT(0x93); else PUT(0x92);
    PUT(0x92);
    if (ext_len8) {
        PUT(0xd7, (uint8_t)ext_type, 0x65, 0x00, 0x00, 0x01);
        if (nanos_bad) PUT(0x3b, 0x9a, 0xca, 0x00); else PUT(0x00, 0x00, 0x00, 0x07);
    } else {
        PUT(0xd6, 0x00, 0x65, 0x00, 0x00, 0x01);
    }
    if (!strcmp(kind, "meta-not-map")) PUT(0x90); else PUT(0x80);
    if (!strcmp(kind, "not-map")) PUT(0x91, 0x01);
    else if (!strcmp(kind, "utf8")) PUT(0x81, 0xa1, 'a', 0xa2, 0xc3, 0x28);
    else if (!strcmp(kind, "key-not-string")) PUT(0x81, 0x01, 0x01);
    else if (!strcmp(kind, "bad-byte")) PUT(0x81, 0xa1, 'a', 0xc1);
    else PUT(0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xa3, 'x', '"', '\n');
    if (!strcmp(kind, "array3")) PUT(0x80);
    if (!strcmp(kind, "trailing")) PUT(0xc0);
    if (!strcmp(kind, "truncated")) n--;
#undef PUT
    char err[256];
    struct sb out = {0};
    if (entries(b, n, 0, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "flbhost: invalid buffer: %s\n", err);
        return 4;
    }
    entries(b, n, 0, &out, err, sizeof err);
    fputs(out.b, stdout);
    return 0;
}

/* ---------- the Fluent Bit side ---------- */

struct prop {
    char *key, *val;
};

enum { CMD_NONE, CMD_PAUSE, CMD_RESUME, CMD_EXIT };

struct inst {
    int idx;
    char *name;
    struct prop *props;
    int nprops;
    void *ctx; /* 24 bytes (-fb 4.2, 5.1) or 16 (-fb 4.0, 3.2) */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int cmd, init_done, init_ret, paused, exited;
};

/* struct flbgo_input_plugin: shared by all instances, as in Fluent Bit;
 * then 4 (<= 4.0) or 6 (>= 4.1) callback pointers the host leaves NULL */
struct flbgo_input_plugin {
    char *name;
    void *api;
    void *i_ins;
    void *context;
};

/* struct flb_plugin_proxy {def, api, instance, dso_handler, data, _head}:
 * data is the plugin struct, which Init reads anew for every instance */
static void *proxy[7];
#define PROXY_DATA 4

typedef int (*register_fn)(void *);
typedef int (*preregister_fn)(int);
typedef int (*init_fn)(void *);
typedef int (*prerun_fn)(int);
typedef int (*cb_fn)(void **, size_t *);
typedef int (*cb_ctx_fn)(void *, void **, size_t *);
typedef int (*cleanup_fn)(void *);
typedef int (*cleanup_ctx_fn)(void *, void *);
typedef void (*void_fn)(void);
typedef void (*preexit_fn)(int);
typedef int (*exit_fn)(void);
typedef void (*unregister_fn)(void *);

static struct {
    init_fn init;
    prerun_fn prerun;
    cb_fn cb;
    cb_ctx_fn cb_ctx;
    cleanup_fn cleanup;
    cleanup_ctx_fn cleanup_ctx;
    void_fn pause, resume;
    preexit_fn preexit;
    exit_fn exit;
    unregister_fn unregister;
} sym;

static size_t plugin_size;
static void *api[9];
static int fb = 51, bad_ctx, use_ctx, interval_ms = 1000, quiet, log_level = 3;
static FILE *out;
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t init_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t n_records, n_callbacks, n_batches, n_bytes, max_batch;
static double max_cb, last_record, first_record, start_time, init_time;

static const char *core_keys[] = {"tag", "alias", "log_level", "mem_buf_limit", "threaded", "host",
                                  "port", "listen", "routable", "log_suppress_interval", NULL};
static const char *core_prefixes[] = {"storage.", "tls", "net.", NULL};

static char *input_get_property(const char *key, void *ins)
{
    struct inst *in = ins;
    if (!key || !in) return NULL;
    for (int i = 0; core_keys[i]; i++)
        if (!strcasecmp(key, core_keys[i])) return NULL;
    for (int i = 0; core_prefixes[i]; i++)
        if (!strncasecmp(key, core_prefixes[i], strlen(core_prefixes[i]))) return NULL;
    char *v = NULL;
    for (int i = 0; i < in->nprops; i++)
        if (!strcasecmp(key, in->props[i].key)) v = in->props[i].val; /* last one wins */
    return v && *v ? v : NULL;
}

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void log_print(int level, const char *file, int line, const char *fmt, ...)
{
    static const char *names[] = {"off", "error", "warn", "info", "debug", "trace"};
    va_list ap;
    (void)file;
    (void)line;
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "[%s] ", level >= 1 && level <= 5 ? names[level] : "?");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_mu);
}

static int input_log_check(void *ins, int level)
{
    (void)ins;
    return level <= log_level;
}

static void *remote(struct inst *in) { return in->ctx ? *(void **)((char *)in->ctx + 8) : NULL; }

static void collect(struct inst *in)
{
    void *data = NULL;
    size_t len = 0;
    int ret;
    double t0 = now_s();
    if (use_ctx) ret = sym.cb_ctx(remote(in), &data, &len);
    else ret = sym.cb(&data, &len);
    double dt = now_s() - t0;
    pthread_mutex_lock(&out_mu);
    n_callbacks++;
    if (dt > max_cb) max_cb = dt;
    pthread_mutex_unlock(&out_mu);
    if (len == 0 || ret == -1) {
        if (data) fprintf(stderr, "flbhost: warning: callback returned a buffer with len %zu, ret %d: Fluent Bit leaks it\n", len, ret);
        return;
    }
    if (!data) {
        fprintf(stderr, "flbhost: instance %d: callback returned NULL data with len %zu\n", in->idx, len);
        exit(4);
    }
    char err[256];
    long n = entries(data, len, in->idx, NULL, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "flbhost: instance %d: invalid buffer: %s\n", in->idx, err);
        exit(4);
    }
    struct sb s = {0};
    if (!quiet) entries(data, len, in->idx, &s, err, sizeof err);
    /* Fluent Bit copied the buffer: hand it back */
    if (use_ctx && sym.cleanup_ctx) sym.cleanup_ctx(remote(in), data);
    else if (sym.cleanup) sym.cleanup(data);
    else free(data);
    pthread_mutex_lock(&out_mu);
    if (s.n) {
        fwrite(s.b, 1, s.n, out);
        fflush(out); /* readers follow the file while the host runs */
    }
    n_records += n;
    n_batches++;
    n_bytes += len;
    if (len > max_batch) max_batch = len;
    last_record = now_s();
    if (!first_record) first_record = last_record;
    pthread_mutex_unlock(&out_mu);
    free(s.b);
}

static void *inst_main(void *arg)
{
    struct inst *in = arg;
    /* Init on the instance's thread, with the shared struct */
    pthread_mutex_lock(&init_mu);
    struct flbgo_input_plugin *p = proxy[PROXY_DATA];
    p->api = api;
    p->i_ins = in;
    p->context = in->ctx;
    int ret = sym.init(p);
    if (ret <= 0 && fb == 32) {
        /* Fluent Bit <= 4.0.2, proxy_go_input_init(): flb_free(plugin) */
        struct flbgo_input_plugin *now = proxy[PROXY_DATA];
        if (now == p || memcmp(now, p, plugin_size)) {
            fprintf(stderr, "flbhost: instance %d: Init failed and proxy->data %s: Fluent Bit <= 4.0.2 frees that "
                            "struct and uses it again at exit (crash)\n", in->idx,
                    now == p ? "still points at the plugin struct" : "points at something other than a copy of it");
            fflush(stderr);
            _exit(7);
        }
        free(p);
    }
    pthread_mutex_unlock(&init_mu);
    pthread_mutex_lock(&in->mu);
    in->init_ret = ret;
    in->init_done = 1;
    pthread_cond_broadcast(&in->cv);
    pthread_mutex_unlock(&in->mu);
    if (ret <= 0) return NULL;
    if (sym.prerun) sym.prerun(0);

    double next = now_s() + interval_ms / 1000.0;
    pthread_mutex_lock(&in->mu);
    for (;;) {
        if (in->cmd != CMD_NONE) {
            int cmd = in->cmd;
            pthread_mutex_unlock(&in->mu);
            if (cmd == CMD_PAUSE && sym.pause) sym.pause();
            if (cmd == CMD_RESUME && sym.resume) sym.resume();
            if (cmd == CMD_EXIT) {
                if (sym.preexit) sym.preexit(0);
                if (sym.exit) sym.exit();
            }
            pthread_mutex_lock(&in->mu);
            if (cmd == CMD_PAUSE) in->paused = 1;
            if (cmd == CMD_RESUME) {
                in->paused = 0;
                next = now_s() + interval_ms / 1000.0;
            }
            in->cmd = CMD_NONE;
            pthread_cond_broadcast(&in->cv);
            if (cmd == CMD_EXIT) {
                in->exited = 1;
                break;
            }
            continue;
        }
        double t = now_s();
        if (!in->paused && t >= next) {
            pthread_mutex_unlock(&in->mu);
            collect(in);
            pthread_mutex_lock(&in->mu);
            next += interval_ms / 1000.0;
            if (next < now_s()) next = now_s(); /* a slow callback: called again at once, as Fluent Bit does */
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double wait = in->paused ? 0.05 : next - t;
        if (wait > 0.05) wait = 0.05;
        ts.tv_nsec += (long)(wait * 1e9);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&in->cv, &in->mu, &ts);
    }
    pthread_mutex_unlock(&in->mu);
    return NULL;
}

/* posts a command to an instance's thread and waits for it */
static void post(struct inst *in, int cmd)
{
    pthread_mutex_lock(&in->mu);
    while (in->cmd != CMD_NONE) pthread_cond_wait(&in->cv, &in->mu);
    in->cmd = cmd;
    pthread_cond_broadcast(&in->cv);
    while (in->cmd != CMD_NONE) pthread_cond_wait(&in->cv, &in->mu);
    pthread_mutex_unlock(&in->mu);
}

static void *must_sym(void *h, const char *name, int required)
{
    void *p = dlsym(h, name);
    if (!p && required) {
        fprintf(stderr, "flbhost: plugin lacks %s\n", name);
        exit(6);
    }
    return p;
}

static void usage(void)
{
    fprintf(stderr, "usage: flbhost [-fb 5.1|4.2|4.0|3.2|unknown] [-interval-ms N] [-t S] [-n N] [-idle S] [-o FILE] [-q] "
                    "[-log-level N] PLUGIN.so -i NAME [-p key=value]... (see the header of flbhost.c)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *so = NULL, *outpath = NULL;
    double t_limit = 0, idle = 0;
    uint64_t n_limit = 0;
    struct inst *insts = NULL;
    int ninst = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG() do { if (!v) usage(); i++; } while (0)
        if (!strcmp(a, "-fb")) {
            ARG();
            if (!strcmp(v, "5.1")) fb = 51;
            else if (!strcmp(v, "4.2")) fb = 42;
            else if (!strcmp(v, "4.0")) fb = 40;
            else if (!strcmp(v, "3.2")) fb = 32;
            else if (!strcmp(v, "unknown")) { fb = 51; bad_ctx = 1; }
            else usage();
        } else if (!strcmp(a, "-interval-ms")) { ARG(); interval_ms = atoi(v); if (interval_ms < 1) usage(); }
        else if (!strcmp(a, "-t")) { ARG(); t_limit = atof(v); }
        else if (!strcmp(a, "-n")) { ARG(); n_limit = strtoull(v, NULL, 10); }
        else if (!strcmp(a, "-idle")) { ARG(); idle = atof(v); }
        else if (!strcmp(a, "-o")) { ARG(); outpath = v; }
        else if (!strcmp(a, "-q")) quiet = 1;
        else if (!strcmp(a, "-log-level")) { ARG(); log_level = atoi(v); }
        else if (!strcmp(a, "-selftest-bad")) { ARG(); return selftest(v); }
        else if (!strcmp(a, "-i")) {
            ARG();
            insts = realloc(insts, (ninst + 1) * sizeof *insts);
            struct inst *in = &insts[ninst];
            memset(in, 0, sizeof *in);
            in->idx = ninst++;
            in->name = (char *)v;
        } else if (!strcmp(a, "-p")) {
            ARG();
            if (!ninst) { fprintf(stderr, "flbhost: -p before any -i\n"); usage(); }
            const char *eq = strchr(v, '=');
            if (!eq) usage();
            struct inst *in = &insts[ninst - 1];
            in->props = realloc(in->props, (in->nprops + 1) * sizeof *in->props);
            in->props[in->nprops].key = strndup(v, eq - v);
            in->props[in->nprops].val = strdup(eq + 1);
            in->nprops++;
        } else if (a[0] == '-') {
            usage();
        } else {
            so = a;
        }
#undef ARG
    }
    if (!so || !ninst) usage();
    out = stdout;
    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "flbhost: %s: %s\n", outpath, strerror(errno));
        return 2;
    }

    double start = start_time = now_s();
    void *h = dlopen(so, RTLD_LAZY);
    if (!h) {
        fprintf(stderr, "flbhost: dlopen: %s\n", dlerror());
        return 6;
    }
    /* registration, main thread */
    size_t defsize = fb == 51 ? 48 : fb == 42 ? 40 : 32;
    uint8_t *def = calloc(1, defsize + 64);
    memset(def + defsize, 0xa5, 64);
    preregister_fn prereg = must_sym(h, "FLBPluginPreRegister", 0);
    if (prereg && prereg(0) == -1) {
        fprintf(stderr, "flbhost: FLBPluginPreRegister returned -1\n");
        return 5;
    }
    register_fn reg = must_sym(h, "FLBPluginRegister", 1);
    if (reg(def) == -1) {
        fprintf(stderr, "flbhost: FLBPluginRegister returned -1\n");
        return 5;
    }
    for (size_t i = defsize; i < defsize + 64; i++) {
        if (def[i] != 0xa5) {
            fprintf(stderr, "flbhost: FLBPluginRegister wrote past the %zu-byte registration struct (byte %zu)\n", defsize, i);
            return 5;
        }
    }
    int dtype = *(int *)def, dproxy = *(int *)(def + 4);
    char *dname = *(char **)(def + 16);
    if (dtype != 1 || dproxy != 11 || !dname) {
        fprintf(stderr, "flbhost: registration: type %d (want 1 = input), proxy %d (want 11 = Go), name %s\n", dtype, dproxy, dname ? dname : "NULL");
        return 5;
    }
    for (int i = 0; i < ninst; i++) {
        if (strcasecmp(insts[i].name, dname)) {
            fprintf(stderr, "flbhost: unknown input '%s' (the plugin registers '%s')\n", insts[i].name, dname);
            return 2;
        }
    }
    sym.init = must_sym(h, "FLBPluginInit", 1);
    sym.prerun = must_sym(h, "FLBPluginInputPreRun", 0);
    sym.cb = must_sym(h, "FLBPluginInputCallback", 0);
    sym.cb_ctx = fb >= 42 ? must_sym(h, "FLBPluginInputCallbackCtx", 0) : NULL;
    sym.cleanup = must_sym(h, "FLBPluginInputCleanupCallback", 0);
    sym.cleanup_ctx = fb >= 42 ? must_sym(h, "FLBPluginInputCleanupCallbackCtx", 0) : NULL;
    sym.pause = must_sym(h, "FLBPluginInputPause", 0);
    sym.resume = must_sym(h, "FLBPluginInputResume", 0);
    sym.preexit = must_sym(h, "FLBPluginInputPreExit", 0);
    sym.exit = must_sym(h, "FLBPluginExit", 0);
    sym.unregister = must_sym(h, "FLBPluginUnregister", 0);
    use_ctx = sym.cb_ctx != NULL;
    if (!use_ctx && !sym.cb) {
        fprintf(stderr, "flbhost: plugin lacks FLBPluginInputCallback%s\n", fb >= 42 ? "(Ctx)" : "");
        return 6;
    }

    proxy[0] = def;
    proxy[1] = api;
    proxy[3] = h;
    api[1] = (void *)input_get_property;
    api[4] = (void *)log_print;
    api[5] = (void *)input_log_check;
    /* proxy_go_input_register(): the plugin struct, with a copy of the name */
    plugin_size = fb >= 42 ? 80 : 64;
    struct flbgo_input_plugin *pstruct = calloc(1, plugin_size);
    pstruct->name = strdup(dname);
    proxy[PROXY_DATA] = pstruct;

    /* instances, one thread each, initialised one after the other */
    for (int i = 0; i < ninst; i++) {
        struct inst *in = &insts[i];
        pthread_mutex_init(&in->mu, NULL);
        pthread_cond_init(&in->cv, NULL);
        /* flb_input_new(): a context per instance pointing at the proxy */
        if (fb >= 42) {
            in->ctx = calloc(1, 24);
            if (!bad_ctx) ((void **)in->ctx)[2] = proxy;
        } else {
            in->ctx = calloc(1, 16);
            ((void **)in->ctx)[1] = proxy;
        }
        pthread_create(&in->th, NULL, inst_main, in);
        pthread_mutex_lock(&in->mu);
        while (!in->init_done) pthread_cond_wait(&in->cv, &in->mu);
        int ret = in->init_ret;
        pthread_mutex_unlock(&in->mu);
        if (ret <= 0) {
            fprintf(stderr, "flbhost: instance %d (%s): FLBPluginInit returned %d\n", i, in->name, ret);
            fflush(out);
            _exit(3);
        }
    }

    /* run */
    pthread_mutex_lock(&out_mu);
    init_time = last_record = now_s();
    pthread_mutex_unlock(&out_mu);
    int stdin_open = 1, paused = 0;
    char line[256];
    size_t ll = 0;
    for (;;) {
        struct pollfd pfd = {0, POLLIN, 0};
        int quit = 0;
        if (stdin_open && poll(&pfd, 1, 20) > 0) {
            char buf[256];
            ssize_t r = read(0, buf, sizeof buf);
            if (r <= 0) stdin_open = 0;
            for (ssize_t k = 0; k < r; k++) {
                if (buf[k] != '\n') {
                    if (ll < sizeof line - 1) line[ll++] = buf[k];
                    continue;
                }
                line[ll] = 0;
                ll = 0;
                if (!strcmp(line, "pause")) {
                    for (int i = 0; i < ninst; i++) post(&insts[i], CMD_PAUSE);
                    paused = 1;
                    fprintf(stderr, "flbhost: paused\n");
                } else if (!strcmp(line, "resume")) {
                    for (int i = 0; i < ninst; i++) post(&insts[i], CMD_RESUME);
                    paused = 0;
                    pthread_mutex_lock(&out_mu);
                    last_record = now_s();
                    pthread_mutex_unlock(&out_mu);
                    fprintf(stderr, "flbhost: resumed\n");
                } else if (!strcmp(line, "quit")) {
                    quit = 1;
                } else if (line[0]) {
                    fprintf(stderr, "flbhost: unknown command '%s'\n", line);
                }
            }
        } else if (!stdin_open) {
            usleep(20000);
        }
        double t = now_s();
        pthread_mutex_lock(&out_mu);
        uint64_t recs = n_records;
        double lr = last_record;
        pthread_mutex_unlock(&out_mu);
        if (quit || (t_limit > 0 && t - start >= t_limit) || (n_limit && recs >= n_limit) ||
            (idle > 0 && !paused && t - lr >= idle)) {
            break;
        }
    }

    /* shutdown as Fluent Bit does */
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < ninst; i++) post(&insts[i], CMD_PAUSE);
    for (int i = ninst - 1; i >= 0; i--) {
        post(&insts[i], CMD_EXIT);
        pthread_join(insts[i].th, NULL);
    }
    if (sym.unregister) sym.unregister(def);
    /* proxy_go_input_unregister() */
    struct flbgo_input_plugin *pfinal = proxy[PROXY_DATA];
    free(pfinal->name);
    free(pfinal);
    fflush(out);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "FLBHOST_STATS {\"records\":%" PRIu64 ",\"callbacks\":%" PRIu64 ",\"batches\":%" PRIu64
            ",\"max_callback_ms\":%.3f,\"bytes\":%" PRIu64 ",\"max_batch\":%" PRIu64 ",\"maxrss_kb\":%ld,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,\"wall_s\":%.3f"
            ",\"init_s\":%.3f,\"first_record_s\":%.3f,\"last_record_s\":%.3f}\n",
            n_records, n_callbacks, n_batches, max_cb * 1000, n_bytes, max_batch, ru.ru_maxrss,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6, ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
            now_s() - start, init_time - start, first_record ? first_record - start : 0,
            first_record ? last_record - start : 0);
    if (out != stdout) fclose(out);
    return 0;
}
