package pair

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/fotasync/fotasync/device"
	"github.com/fotasync/fotasync/flash"
	"github.com/fotasync/fotasync/smp"
)

// journalFile is the journal's name in a device's state directory.
const journalFile = "pair-journal.cbor"

// Session is what a device remembers of the pair session across resets.
type Session struct {
	BeginRequest
	Phase     Phase       `cbor:"phase"`
	Primary   DeviceState `cbor:"primary"`
	Secondary DeviceState `cbor:"secondary"`
	// DurableOff is how much of the image this device had durably written
	// at its last checkpoint, a multiple of its flash sector: after a reset
	// its upload resumes there (G3).
	DurableOff uint32 `cbor:"durable_off,omitempty"`
	// Applied lists the state-changing commands this device carried out for
	// the session, so that a replay after a reconnect is applied at most
	// once.
	Applied  []string `cbor:"applied,omitempty"`
	Decision string   `cbor:"decision,omitempty"`
	Failure  *Failure `cbor:"failure,omitempty"`
}

// did reports whether the command named op was applied for this session.
func (s *Session) did(op string) bool {
	for _, a := range s.Applied {
		if a == op {
			return true
		}
	}
	return false
}

// journal stores a Session in one file, replaced atomically: a crash leaves
// either the old or the new record, never a torn one.
type journal struct {
	path  string
	power *flash.PowerCut // the device's power-cut plan; nil when none
}

func newJournal(dev *device.Device) journal {
	return journal{path: filepath.Join(dev.Dir(), journalFile), power: dev.PowerCut()}
}

// load reads the journal; a missing file is an idle session.
func (j journal) load() (Session, error) {
	b, err := os.ReadFile(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		return Session{Phase: PhaseIdle}, nil
	}
	if err != nil {
		return Session{}, fmt.Errorf("pair: journal: %w", err)
	}
	var s Session
	if err := smp.Unmarshal(b, &s); err != nil {
		return Session{}, fmt.Errorf("pair: journal %s: %w", j.path, err)
	}
	return s, nil
}

// save writes s to a temporary file, syncs it, and renames it over the
// journal.
func (j journal) save(s Session) error {
	// A power cut "during" the save leaves the old record: the rename is
	// the write that counts.
	if err := j.power.Step(); err != nil {
		return fmt.Errorf("pair: journal: %w", err)
	}
	b, err := smp.Marshal(s)
	if err != nil {
		return fmt.Errorf("pair: journal: %w", err)
	}
	tmp := j.path + ".tmp"
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("pair: journal: %w", err)
	}
	if err := os.Rename(tmp, j.path); err != nil {
		return fmt.Errorf("pair: journal: %w", err)
	}
	dir, err := os.Open(filepath.Dir(j.path))
	if err != nil {
		return fmt.Errorf("pair: journal: %w", err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("pair: journal: sync directory: %w", err)
	}
	return nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
