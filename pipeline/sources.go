package pipeline

import (
	"context"
	"errors"
)

func openFileSource(cfg Config, l *Live) (liveSource, error) {
	return nil, errors.New("file source: not wired yet")
}

func openKernelSource(cfg Config, l *Live) (liveSource, error) {
	return nil, errors.New("kernel source: not wired yet")
}

var _ = context.Background
