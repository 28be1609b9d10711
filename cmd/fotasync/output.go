package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/fotasync/fotasync/pair"
	"github.com/fotasync/fotasync/smp"
)

// printStatus writes the pair's status as a table.
func printStatus(w io.Writer, st pair.Status) {
	fmt.Fprintf(w, "session  %s\n", sessionLine(st))
	if st.Decision != "" {
		fmt.Fprintf(w, "decision %s\n", st.Decision)
	}
	if st.Failure != nil {
		fmt.Fprintf(w, "error    %s: %s: %s\n", st.Failure.Device, st.Failure.Step, st.Failure.Reason)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSLOT\tVERSION\tHASH\tFLAGS\tSESSION")
	for _, d := range st.Devices {
		session := string(d.State)
		if d.State == pair.StateReceiving {
			session = fmt.Sprintf("receiving %d/%d", d.Off, d.Len)
		}
		if !d.Reachable {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tunreachable\t%s\n", d.Role, session)
			continue
		}
		if len(d.Images) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\tno image\t%s\n", d.Role, session)
		}
		for i, s := range d.Images {
			role := d.Role
			if i > 0 {
				role, session = "", ""
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", role, s.Slot, s.Version, shortHash(s.Hash), flags(s), session)
		}
	}
	tw.Flush()
}

func sessionLine(st pair.Status) string {
	if st.SID == 0 {
		return string(st.Phase)
	}
	return fmt.Sprintf("%08x  target %s  version %s  phase %s", st.SID, st.Target, st.Version, st.Phase)
}

func shortHash(h []byte) string {
	if len(h) < 8 {
		return hex.EncodeToString(h)
	}
	return hex.EncodeToString(h[:8])
}

// flags lists the image state flags that are set.
func flags(s smp.ImageSlot) string {
	var f []string
	for _, x := range []struct {
		set  bool
		name string
	}{{s.Active, "active"}, {s.Confirmed, "confirmed"}, {s.Pending, "pending"}, {s.Permanent, "permanent"},
		{!s.Bootable, "non-bootable"}} {
		if x.set {
			f = append(f, x.name)
		}
	}
	if len(f) == 0 {
		return "-"
	}
	return strings.Join(f, ",")
}
