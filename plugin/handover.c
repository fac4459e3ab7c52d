// The buffer hand-over, in C so that Fluent Bit's callbacks never enter the
// Go runtime: a callback that must first get a Go P waits behind busy
// goroutines and the garbage collector (the C host measured 100 ms under
// load), here it takes a mutex and swaps a pointer.
//
// The Go side (handover.go) moves encoded records from the pipeline's queue
// into the open batch, a few milliseconds at a time, up to buffer_max_size.
// Fluent Bit's callback (once a second) takes the open batch whole and the
// next one starts; Fluent Bit copies it and frees it through the cleanup
// callback. Batches are numbered (generations), so the Go side knows which
// records Fluent Bit has accepted and acknowledges exactly those.
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "shim.h"

struct lau_handover {
    pthread_mutex_t mu;
    char *buf;          // the open batch (malloc), NULL when empty
    size_t len, cap, max;
    uint64_t gen;       // generation of the open batch, from 1
    uint64_t handed, accepted;
    uint64_t callbacks, batches, bytes;
    double max_callback_ms;
    int closed;
};

// The handover of the last initialised instance, for the callbacks without
// context (Fluent Bit <= 4.0 runs one linux_audit input only).
static struct lau_handover *last_h;
static pthread_mutex_t last_mu = PTHREAD_MUTEX_INITIALIZER;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct lau_handover *lau_handover_new(size_t max)
{
    struct lau_handover *h = calloc(1, sizeof *h);
    if (!h) {
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    h->max = max;
    h->gen = 1;
    return h;
}

uint64_t lau_handover_append(struct lau_handover *h, const void *p, size_t n)
{
    pthread_mutex_lock(&h->mu);
    uint64_t gen = h->gen;
    if (h->closed) {
        pthread_mutex_unlock(&h->mu);
        return 0;
    }
    if (h->len + n > h->cap) {
        // The whole bound at once: above glibc's mmap threshold it is
        // address space only (pages count once written) and never moved by
        // a later realloc under the lock; an entry larger than the bound
        // still goes, alone.
        size_t want = h->max > h->len + n ? h->max : h->len + n;
        char *b = realloc(h->buf, want);
        if (!b) {
            pthread_mutex_unlock(&h->mu);
            return 0;
        }
        h->buf = b;
        h->cap = want;
    }
    memcpy(h->buf + h->len, p, n);
    h->len += n;
    pthread_mutex_unlock(&h->mu);
    return gen;
}

void lau_handover_state(struct lau_handover *h, struct lau_handover_state *st)
{
    pthread_mutex_lock(&h->mu);
    st->handed = h->handed;
    st->accepted = h->accepted;
    st->room = h->len < h->max ? h->max - h->len : 0;
    st->open = h->len;
    st->callbacks = h->callbacks;
    st->batches = h->batches;
    st->bytes = h->bytes;
    st->max_callback_ms = h->max_callback_ms;
    pthread_mutex_unlock(&h->mu);
}

void lau_handover_close(struct lau_handover *h)
{
    pthread_mutex_lock(&last_mu);
    if (last_h == h) {
        last_h = NULL;
    }
    pthread_mutex_unlock(&last_mu);
    pthread_mutex_lock(&h->mu);
    h->closed = 1;
    free(h->buf);
    h->buf = NULL;
    h->len = h->cap = 0;
    pthread_mutex_unlock(&h->mu);
}

void lau_handover_set_last(struct lau_handover *h)
{
    pthread_mutex_lock(&last_mu);
    last_h = h;
    pthread_mutex_unlock(&last_mu);
}

static struct lau_handover *get_last(void)
{
    pthread_mutex_lock(&last_mu);
    struct lau_handover *h = last_h;
    pthread_mutex_unlock(&last_mu);
    return h;
}

// collect hands the open batch over; Fluent Bit skips len 0.
static int collect(struct lau_handover *h, void **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    if (!h) {
        return 0;
    }
    double t0 = now_ms();
    pthread_mutex_lock(&h->mu);
    h->callbacks++;
    // A batch handed out earlier and not cleaned up was accepted all the
    // same (Fluent Bit copies it before it calls again).
    h->accepted = h->handed;
    if (h->len > 0 && !h->closed) {
        *data = h->buf;
        *size = h->len;
        h->handed = h->gen++;
        h->batches++;
        h->bytes += h->len;
        h->buf = NULL;
        h->len = h->cap = 0;
    }
    double dt = now_ms() - t0;
    if (dt > h->max_callback_ms) {
        h->max_callback_ms = dt;
    }
    pthread_mutex_unlock(&h->mu);
    return 0;
}

static int cleanup(struct lau_handover *h, void *data)
{
    free(data);
    if (h) {
        pthread_mutex_lock(&h->mu);
        h->accepted = h->handed;
        pthread_mutex_unlock(&h->mu);
    }
    return 0;
}

// Fluent Bit's input callbacks (0 is FLB_OK). From 4.1 on Fluent Bit calls
// the ...Ctx forms with the remote_context Init set (lau_set_remote).
int FLBPluginInputCallback(void **data, size_t *size) { return collect(get_last(), data, size); }
int FLBPluginInputCallbackCtx(void *remote, void **data, size_t *size) { return collect(remote, data, size); }
int FLBPluginInputCleanupCallback(void *data) { return cleanup(get_last(), data); }
int FLBPluginInputCleanupCallbackCtx(void *remote, void *data) { return cleanup(remote, data); }
