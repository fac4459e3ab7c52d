// Command plugin is the Fluent Bit input plugin linux_audit, built as a Go
// shared object:
//
//	CGO_ENABLED=1 go build -buildmode=c-shared -ldflags "-X main.version=1.2.3" -o linux_audit.so ./plugin
//	fluent-bit -e /abs/path/linux_audit.so -i linux_audit -p path=/var/log/audit/audit.log -o stdout
//
// It is a thin layer: configuration, logging and the buffer hand-over. The
// work is done by package pipeline (a reader goroutine feeding a bounded
// queue); a feeder goroutine moves the queue into the batch Fluent Bit takes
// next, and Fluent Bit's callbacks are answered in C (handover.c) without
// entering the Go runtime, so they never wait on goroutines or the garbage
// collector.
//
// # Instances
//
// Fluent Bit >= 4.1 passes a per-instance context to Init (struct
// flb_plugin_input_proxy_context); the plugin stores the instance's C
// hand-over in its remote_context and the ...Ctx callbacks (handover.c)
// find the instance by it, so any number of linux_audit inputs can run
// side by side. Fluent Bit 2.0 to
// 4.0 also passes a context, but another struct (flb_plugin_proxy_context,
// which Fluent Bit drops after Init) and only calls the plain callbacks,
// which cannot tell instances apart: there a second instance fails Init
// with one clear line and the first keeps running. The two layouts are told
// apart in shim.c (lau_context_abi); an unknown layout fails Init.
//
// Pause, Resume and Exit never receive a context. Fluent Bit itself routes
// them to the last initialised instance, and so does the plugin: Pause and
// Resume apply to the last initialised running instance; each Exit stops
// one instance, the last initialised first (Fluent Bit exits instances in
// reverse order). With several instances, an instance paused by Fluent Bit
// but not by the plugin simply stops being drained: its batch fills up to
// buffer_max_size and its queue up to queue_max_bytes, then the file
// source waits and the kernel source counts drops, exactly as when paused.
package main

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"unsafe"

	"github.com/fluent/fluent-bit-go/input"
	"github.com/whokilledit/linuxaudit/pipeline"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const (
	pluginName = "linux_audit"
	pluginDesc = "Linux audit events, correlated and enriched"
)

// Return values Fluent Bit understands.
const (
	flbError = C.int(input.FLB_ERROR)
	flbOK    = C.int(input.FLB_OK)
)

func main() {}

// instance is one [INPUT] linux_audit.
type instance struct {
	id     uintptr
	prefix string
	cfg    pipeline.Config
	live   *pipeline.Live
	api    unsafe.Pointer // struct flb_api, lives as long as the plugin
	ins    unsafe.Pointer // the Fluent Bit input instance, until Exit
	ctx    bool           // Fluent Bit passed a per-instance context

	feed   *feeder
	mu     sync.RWMutex // closed versus logging through ins
	closed bool
	log    *slog.Logger
}

var reg struct {
	sync.Mutex
	next    uintptr
	running []*instance // in Init order
}

// Fluent Bit's log levels.
const (
	flbLogError = 1
	flbLogWarn  = 2
	flbLogInfo  = 3
	flbLogDebug = 4
	flbLogTrace = 5
)

// flbLevel maps a slog level to Fluent Bit's.
func flbLevel(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return flbLogError
	case l >= slog.LevelWarn:
		return flbLogWarn
	case l >= slog.LevelInfo:
		return flbLogInfo
	case l >= slog.LevelDebug:
		return flbLogDebug
	}
	return flbLogTrace
}

// logTo prints one line through Fluent Bit's log_print when the instance's
// log level allows it.
func logTo(api, ins unsafe.Pointer, level int, msg string) {
	if api == nil {
		return
	}
	if C.lau_log_check(api, ins, C.int(level)) == 0 {
		return
	}
	cs := C.CString(msg)
	C.lau_log(api, C.int(level), cs)
	C.free(unsafe.Pointer(cs))
}

// flbHandler is the slog handler of an instance: one Fluent Bit log line
// per record, "[linux_audit] message key=value ...", at the matching level;
// safe from any goroutine. After Exit nothing is printed (the Fluent Bit
// instance is gone).
type flbHandler struct {
	in    *instance
	attrs string
}

func (h flbHandler) Enabled(_ context.Context, l slog.Level) bool {
	in := h.in
	in.mu.RLock()
	defer in.mu.RUnlock()
	return !in.closed && in.api != nil && C.lau_log_check(in.api, in.ins, C.int(flbLevel(l))) != 0
}

func (h flbHandler) Handle(_ context.Context, r slog.Record) error {
	msg := h.in.prefix + r.Message + h.attrs
	r.Attrs(func(a slog.Attr) bool {
		msg += " " + a.String()
		return true
	})
	in := h.in
	in.mu.RLock()
	defer in.mu.RUnlock()
	if !in.closed {
		logTo(in.api, in.ins, flbLevel(r.Level), msg)
	}
	return nil
}

func (h flbHandler) WithAttrs(as []slog.Attr) slog.Handler {
	for _, a := range as {
		h.attrs += " " + a.String()
	}
	return h
}

func (h flbHandler) WithGroup(string) slog.Handler { return h }

func (in *instance) stop() {
	ho := in.feed.close()
	err := in.live.Stop()
	st, _ := json.Marshal(struct {
		pipeline.Stats
		Handover handoverStats `json:"handover"`
	}{in.live.Stats(), ho})
	in.log.Info("stopped; final stats " + string(st))
	if in.feed.err != "" {
		in.log.Error("the hand-over stopped early: " + in.feed.err)
	}
	if err != nil {
		in.log.Warn("closing source: " + err.Error())
	}
	in.mu.Lock()
	in.closed = true
	in.ins = nil
	in.mu.Unlock()
}

// last returns the last initialised running instance (the one Fluent Bit
// means when it calls a callback without context), or nil.
func last() *instance {
	reg.Lock()
	defer reg.Unlock()
	if n := len(reg.running); n > 0 {
		return reg.running[n-1]
	}
	return nil
}

//export FLBPluginRegister
func FLBPluginRegister(def unsafe.Pointer) C.int {
	return C.int(input.FLBPluginRegister(def, pluginName, pluginDesc))
}

//export FLBPluginInit
func FLBPluginInit(plugin unsafe.Pointer) C.int {
	api, ins := C.lau_api(plugin), C.lau_ins(plugin)
	abi := C.lau_context_abi(plugin)
	hasCtx := abi == C.LAU_CTX_NEW
	fail := func(msg string) C.int {
		logTo(api, ins, flbLogError, "["+pluginName+"] "+msg)
		// Fluent Bit <= 4.0.2 would crash at exit after a failed Init.
		C.lau_detach_plugin(plugin)
		return flbError
	}
	if abi == C.LAU_CTX_UNKNOWN {
		return fail("unknown Fluent Bit plugin ABI (the Init context is neither the <= 4.0 nor the >= 4.1 layout): not starting; this plugin is checked with Fluent Bit 3.2, 4.2 and 5.1")
	}

	// Read every key now: the struct is shared by all instances and
	// overwritten by the next Init.
	get := func(key string) (string, bool) {
		ck := C.CString(key)
		defer C.free(unsafe.Pointer(ck))
		v := C.lau_get_property(plugin, ck)
		if v == nil {
			return "", false
		}
		return C.GoString(v), true
	}
	logTo(api, ins, flbLogInfo, "["+pluginName+"] version "+version)
	for _, k := range pipeline.Keys {
		if _, set := get(k.Name); set && k.Scope&pipeline.Plugin == 0 {
			return fail(fmt.Sprintf("key %q is a flag of the linuxaudit command, not a property of this plugin", k.Name))
		}
	}
	cfg, err := pipeline.Parse(get)
	if err != nil {
		return fail(err.Error())
	}

	reg.Lock()
	if !hasCtx && len(reg.running) > 0 {
		reg.Unlock()
		return fail("a second linux_audit input is refused: this Fluent Bit is older than 4.1 and calls input plugins without a per-instance context, so only one linux_audit input can run in it; use Fluent Bit 4.1 or newer for several")
	}
	reg.next++
	in := &instance{id: reg.next, cfg: cfg, api: api, ins: ins, ctx: hasCtx}
	reg.Unlock()
	in.prefix = "[" + pluginName + "] "
	if in.id > 1 {
		in.prefix = fmt.Sprintf("[%s#%d] ", pluginName, in.id)
	}
	in.log = slog.New(flbHandler{in: in})

	live, err := pipeline.Start(cfg, in.log)
	if err != nil {
		var ce *pipeline.ConfigError
		if errors.As(err, &ce) {
			return fail(ce.Error())
		}
		return fail("cannot start (source=" + describe(cfg) + "): " + err.Error())
	}
	in.live = live
	in.feed = newFeeder(live, cfg.BufferMaxSize)
	if in.feed == nil {
		live.Stop()
		return fail("cannot allocate the hand-over")
	}
	go in.feed.run()
	in.log.Info("started: source=" + describe(cfg))

	reg.Lock()
	reg.running = append(reg.running, in)
	C.lau_handover_set_last(in.feed.h)
	reg.Unlock()
	if hasCtx {
		C.lau_set_remote(plugin, unsafe.Pointer(in.feed.h))
	}
	return flbOK
}

func describe(cfg pipeline.Config) string {
	if cfg.Source == "file" {
		return fmt.Sprintf("file path=%s read_from_head=%v db=%q", cfg.Path, cfg.ReadFromHead, cfg.DB)
	}
	return "kernel mode=" + cfg.KernelMode
}

// Fluent Bit's collect and cleanup callbacks are in handover.c.

//export FLBPluginInputPause
func FLBPluginInputPause() {
	if in := last(); in != nil {
		in.live.Pause()
		in.log.Debug("paused")
	}
}

//export FLBPluginInputResume
func FLBPluginInputResume() {
	if in := last(); in != nil {
		in.live.Resume()
		in.log.Debug("resumed")
	}
}

//export FLBPluginInputPreExit
func FLBPluginInputPreExit(byHotReload C.int) {
	if in := last(); in != nil {
		in.log.Debug(fmt.Sprintf("pre-exit (hot reload: %v)", byHotReload != 0))
	}
}

// FLBPluginExit stops one instance per call, the last initialised first.
// (Fluent Bit looks up no FLBPluginExitCtx for inputs.)
//
//export FLBPluginExit
func FLBPluginExit() C.int {
	reg.Lock()
	n := len(reg.running)
	if n == 0 {
		reg.Unlock()
		return flbOK
	}
	in := reg.running[n-1]
	reg.running = reg.running[:n-1]
	if n > 1 {
		C.lau_handover_set_last(reg.running[n-2].feed.h)
	}
	reg.Unlock()
	in.stop()
	return flbOK
}

//export FLBPluginUnregister
func FLBPluginUnregister(def unsafe.Pointer) {
	// Normally every instance has exited by now; stop any left over.
	for last() != nil {
		FLBPluginExit()
	}
	input.FLBPluginUnregister(def)
}
