package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The offsets file (Config.DB) records, for each stream (a path or a
// glob match), the identity of the file holding the committed position and
// the offset in it, plus the resume list the pipeline hands to Commit. It is
// JSON, small, and always replaced whole: written to a temporary file in the
// same directory, fsynced, renamed over the old one, and the directory is
// fsynced, so a crash leaves either the old or the new content, never a mix.

const offsetsVersion = 1

// offsetsEntry is one stream's committed position.
type offsetsEntry struct {
	Path   string `json:"path"`    // the stream: the path (or glob match) followed
	Name   string `json:"name"`    // where the file was when committed (informational)
	Dev    uint64 `json:"dev"`     // identity: device,
	Ino    uint64 `json:"ino"`     // inode,
	FPLen  int    `json:"fp_len"`  // and a fingerprint: FNV-1a of the first FPLen bytes
	FPHash uint64 `json:"fp_hash"` //
	Offset int64  `json:"offset"`  // everything before this byte has been handed over
}

type offsetsState struct {
	Version int            `json:"version"`
	Streams []offsetsEntry `json:"streams"`
	Resume  []byte         `json:"extra,omitempty"` // the resume list (named "extra" in files of earlier versions)
}

type offsetsDB struct {
	path string
}

// openOffsetsDB checks that the offsets file can be read (when it exists)
// and written, and returns its content (nil when there is none yet).
func openOffsetsDB(path string) (*offsetsDB, *offsetsState, error) {
	d := &offsetsDB{path: path}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("offsets db %s: directory: %w", path, err)
	} else if !fi.IsDir() {
		return nil, nil, fmt.Errorf("offsets db %s: %s is not a directory", path, dir)
	}
	// Leftovers of a crash between create and rename.
	if ents, err := os.ReadDir(dir); err == nil {
		prefix := filepath.Base(path) + ".tmp"
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), prefix) {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
	// Writable?
	tf, err := os.CreateTemp(dir, filepath.Base(path)+".tmp")
	if err != nil {
		return nil, nil, fmt.Errorf("offsets db %s: not writable: %w", path, err)
	}
	tf.Close()
	os.Remove(tf.Name())

	st, err := d.load()
	if err != nil {
		return nil, nil, err
	}
	return d, st, nil
}

func (d *offsetsDB) load() (*offsetsState, error) {
	b, err := os.ReadFile(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets db %s: unreadable: %w", d.path, err)
	}
	var st offsetsState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("offsets db %s: corrupt (delete it to start over): %w", d.path, err)
	}
	if st.Version != offsetsVersion {
		return nil, fmt.Errorf("offsets db %s: unsupported version %d (want %d)", d.path, st.Version, offsetsVersion)
	}
	return &st, nil
}

// save replaces the offsets file atomically.
func (d *offsetsDB) save(st *offsetsState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(d.path)
	tf, err := os.CreateTemp(dir, filepath.Base(d.path)+".tmp")
	if err != nil {
		return fmt.Errorf("offsets db %s: %w", d.path, err)
	}
	tmp := tf.Name()
	fail := func(err error) error {
		tf.Close()
		os.Remove(tmp)
		return fmt.Errorf("offsets db %s: %w", d.path, err)
	}
	if _, err := tf.Write(b); err != nil {
		return fail(err)
	}
	if err := tf.Sync(); err != nil {
		return fail(err)
	}
	if err := tf.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("offsets db %s: %w", d.path, err)
	}
	if err := os.Rename(tmp, d.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("offsets db %s: %w", d.path, err)
	}
	if df, err := os.Open(dir); err == nil {
		df.Sync()
		df.Close()
	}
	return nil
}
