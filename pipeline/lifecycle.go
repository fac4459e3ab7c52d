package pipeline

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whokilledit/linuxaudit/enrich"
	"github.com/whokilledit/linuxaudit/source"
	"github.com/whokilledit/linuxaudit/source/kmsg"
	"github.com/whokilledit/linuxaudit/source/procevents"
)

// lifecycle feeds the enricher what the kernel says of processes besides
// audit, when running live on the host: fork, exec and exit from the
// process events connector (the process table learns of a process the
// moment it starts a program, and of its exit status), and OOM kills from
// /dev/kmsg. Each is read on its own goroutine into a bounded queue that
// the enricher's goroutine drains (core.absorb): the process table stays
// single-threaded.
type lifecycle struct {
	log    *slog.Logger
	procs  *procevents.Source
	kmsg   *kmsg.Reader
	oomP   *kmsg.OOMParser
	notify chan struct{} // a token when something was queued

	// exitCgroup: read /proc/<pid>/cgroup at each exit (the process is
	// not reaped yet) for the watches; a process that crashed or exited
	// right after its exec had no /proc to read then.
	exitCgroup bool
	procRoot   string

	procQ, procFree chan *enrich.ProcEvent
	oomQ            chan enrich.OOMKill
	procLost        atomic.Uint64 // process events dropped: the queue was full
	oomLost         atomic.Uint64
	ooms            atomic.Uint64

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

const (
	lifeQueue = 4096 // process events waiting for the enricher at most
	oomQueue  = 64
)

// openLifecycle opens what the configuration asks for and the host
// allows; with `auto`, what cannot be opened is said once and left out
// (the /proc rescans stay the fallback); with `true` it is an error.
func openLifecycle(cfg Config, log *slog.Logger) (*lifecycle, error) {
	lc := &lifecycle{log: log, notify: make(chan struct{}, 1), procRoot: cfg.Enrich.ProcRoot,
		exitCgroup: len(cfg.Enrich.Watch.Units)+len(cfg.Enrich.Watch.Containers) > 0}
	if lc.procRoot == "" {
		lc.procRoot = "/proc"
	}
	if cfg.ProcEvents != "false" {
		s, err := procevents.Open(procevents.Config{Log: log, Kinds: procevents.Fork | procevents.Exec | procevents.Exit,
			ReadProc: true, ProcRoot: cfg.Enrich.ProcRoot})
		switch {
		case err == nil:
			lc.procs = s
			lc.procQ, lc.procFree = make(chan *enrich.ProcEvent, lifeQueue), make(chan *enrich.ProcEvent, lifeQueue)
			for range lifeQueue {
				lc.procFree <- &enrich.ProcEvent{}
			}
			log.Info("process events connector: following fork, exec and exit (processes that live a few ms are known)")
		case cfg.ProcEvents == "true":
			return nil, &ConfigError{"proc_events", cfg.ProcEvents, err.Error()}
		default:
			log.Warn("process events connector unavailable (" + err.Error() + "): process context from /proc rescans every 2 s only; short-lived targets may lack their command line")
		}
	}
	if cfg.Kmsg != "false" {
		r, err := kmsg.Open(kmsg.Config{Log: log})
		switch {
		case err == nil:
			lc.kmsg = r
			lc.oomP = kmsg.NewOOMParser(kmsg.OOMConfig{})
			lc.oomQ = make(chan enrich.OOMKill, oomQueue)
			log.Info("kernel log: reading OOM kills from /dev/kmsg")
		case cfg.Kmsg == "true":
			lc.close()
			return nil, &ConfigError{"kmsg", cfg.Kmsg, err.Error()}
		default:
			log.Warn("kernel log unavailable (" + err.Error() + "): OOM kills are not reported")
		}
	}
	if lc.procs == nil && lc.kmsg == nil {
		return nil, nil
	}
	var ctx context.Context
	ctx, lc.cancel = context.WithCancel(context.Background())
	if lc.procs != nil {
		lc.wg.Add(1)
		go lc.readProcs(ctx)
	}
	if lc.kmsg != nil {
		lc.wg.Add(1)
		go lc.readKmsg(ctx)
	}
	return lc, nil
}

func (lc *lifecycle) wake() {
	select {
	case lc.notify <- struct{}{}:
	default:
	}
}

// readProcs converts the connector's events (valid until its next Next)
// into the enricher's, in recycled buffers.
func (lc *lifecycle) readProcs(ctx context.Context) {
	defer lc.wg.Done()
	for {
		ev, err := lc.procs.Next(ctx)
		if err != nil {
			if errors.Is(err, source.ErrIdle) {
				continue
			}
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				lc.log.Error("process events connector: " + err.Error())
			}
			return
		}
		var pe *enrich.ProcEvent
		select {
		case pe = <-lc.procFree:
		default:
			lc.procLost.Add(1) // the enricher is behind: the /proc rescan covers it
			continue
		}
		convertProcEvent(&ev, pe)
		if pe.Kind == enrich.ProcExit && lc.exitCgroup {
			pe.Cgroup = readSmall(lc.procRoot+"/"+strconv.Itoa(int(pe.PID))+"/cgroup", pe.Cgroup[:0])
		}
		lc.procQ <- pe
		lc.wake()
	}
}

// readSmall appends the start of a small file (4 KiB at most) to b.
func readSmall(path string, b []byte) []byte {
	f, err := os.Open(path)
	if err != nil {
		return b
	}
	defer f.Close()
	b = slices.Grow(b, 4096)
	n, _ := f.Read(b[len(b):cap(b)][:4096])
	return b[:len(b)+n]
}

func convertProcEvent(ev *procevents.Event, pe *enrich.ProcEvent) {
	*pe = enrich.ProcEvent{Time: ev.Time, PID: int64(ev.TGID), UID: -1,
		Comm: pe.Comm[:0], Exe: pe.Exe[:0], Argv: pe.Argv[:0], Cgroup: pe.Cgroup[:0]}
	switch ev.Kind {
	case procevents.Fork:
		pe.Kind, pe.PPID = enrich.ProcFork, int64(ev.ParentTGID)
	case procevents.Exec:
		pe.Kind = enrich.ProcExec
		p := &ev.Proc
		if p.Read&procevents.ProcStat != 0 {
			pe.HasProc, pe.Start, pe.PPID = true, p.StartTime, int64(p.PPID)
			pe.Comm = append(pe.Comm, p.Comm...)
			pe.Exe = append(pe.Exe, p.Exe...)
			pe.Argv = append(pe.Argv, p.Cmdline...)
			pe.Cgroup = append(pe.Cgroup, p.Cgroup...)
			if p.Read&procevents.ProcStatus != 0 {
				pe.UID = int64(p.UID)
			}
			pe.CmdlineTruncated = p.Truncated&procevents.ProcCmdline != 0
		}
	case procevents.Exit:
		pe.Kind, pe.PPID = enrich.ProcExit, int64(ev.ParentTGID)
		switch st := ev.Status; {
		case st.Signaled():
			pe.ExitSig, pe.CoreDumped = int(st.Signal()), st.CoreDump()
		default:
			pe.ExitCode = st.ExitStatus()
		}
	}
}

// readKmsg turns the kernel's OOM lines into reports.
func (lc *lifecycle) readKmsg(ctx context.Context) {
	defer lc.wg.Done()
	for {
		r, err := lc.kmsg.Next(ctx)
		switch {
		case err == nil:
			lc.oomP.Record(&r)
		case errors.Is(err, source.ErrIdle):
			lc.oomP.Expire(time.Now())
		default:
			if ctx.Err() == nil && !errors.Is(err, os.ErrClosed) {
				lc.log.Error("kernel log: " + err.Error())
			}
			return
		}
		for {
			rep, ok := lc.oomP.Report()
			if !ok {
				break
			}
			lc.ooms.Add(1)
			select {
			case lc.oomQ <- oomKill(&rep):
				lc.wake()
			default:
				lc.oomLost.Add(1)
			}
		}
	}
}

func oomKill(r *kmsg.OOMReport) enrich.OOMKill {
	return enrich.OOMKill{Time: r.Time, Host: r.Host, PID: int64(r.PID), Comm: r.Comm, UID: int64(r.UID),
		TotalVM: r.TotalVM, AnonRSS: r.AnonRSS, FileRSS: r.FileRSS, ShmemRSS: r.ShmemRSS, PgTables: r.PgTables,
		OOMScoreAdj: r.OOMScoreAdj, Constraint: r.Constraint, Global: r.Global, OOMMemcg: r.OOMMemcg,
		TaskMemcg: r.TaskMemcg, MemcgUsage: r.MemcgUsage, MemcgLimit: r.MemcgLimit, TriggerComm: r.TriggerComm,
		TriggerPID: int64(r.TriggerPID), Partial: r.Partial()}
}

// drain hands what was queued to the enricher (its goroutine).
func (lc *lifecycle) drain(e *enrich.Enricher) {
	for {
		select {
		case pe := <-lc.procQ:
			e.Process(pe)
			lc.procFree <- pe
		case k := <-lc.oomQ:
			e.OOM(&k)
		default:
			return
		}
	}
}

// queued reports whether something waits for drain.
func (lc *lifecycle) queued() bool { return len(lc.procQ) > 0 || len(lc.oomQ) > 0 }

func (lc *lifecycle) close() {
	if lc.cancel != nil {
		lc.cancel()
	}
	if lc.procs != nil {
		lc.procs.Close()
	}
	if lc.kmsg != nil {
		lc.kmsg.Close()
	}
	lc.wg.Wait()
}

func (lc *lifecycle) stats() map[string]any {
	m := map[string]any{}
	if lc.procs != nil {
		st := lc.procs.Stats()
		m["proc_events"] = map[string]any{"fork": st.Fork, "exec": st.Exec, "exit": st.Exit, "enobufs": st.ENOBUFS,
			"proc_read_failed": st.ProcReadFailed, "queue_dropped": lc.procLost.Load()}
	}
	if lc.kmsg != nil {
		st := lc.kmsg.Stats()
		m["kmsg"] = map[string]any{"records": st.Records, "lost": st.Lost + st.Overwritten, "oom_kills": lc.ooms.Load(),
			"queue_dropped": lc.oomLost.Load()}
	}
	return m
}

// kernelLogs reads saved kernel logs (dmesg, journalctl -k, kern.log) for
// their OOM kills, in time order (the CLI joins them to the audit log).
func kernelLogs(paths []string) ([]enrich.OOMKill, error) {
	var out []enrich.OOMKill
	opt := kmsg.LogOptions{Now: time.Now()}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, &ConfigError{"kernel_log", p, err.Error()}
		}
		oomP := kmsg.NewOOMParser(kmsg.OOMConfig{MaxQueue: 1 << 20})
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		lines := 0
		for sc.Scan() {
			if l, ok := kmsg.ParseLogLine(sc.Bytes(), &opt); ok && !l.Time.IsZero() {
				oomP.Feed(l)
				lines++
			}
			for rep, ok := oomP.Report(); ok; rep, ok = oomP.Report() {
				out = append(out, oomKill(&rep))
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, &ConfigError{"kernel_log", p, err.Error()}
		}
		oomP.Flush()
		for rep, ok := oomP.Report(); ok; rep, ok = oomP.Report() {
			out = append(out, oomKill(&rep))
		}
		if lines == 0 {
			return nil, &ConfigError{"kernel_log", p, "no kernel log line with a wall-clock time in it: save it with dmesg -T, journalctl -k (-o short-iso) or from kern.log (plain dmesg stamps are seconds since a boot)"}
		}
	}
	slices.SortStableFunc(out, func(a, b enrich.OOMKill) int { return a.Time.Compare(b.Time) })
	return out, nil
}
