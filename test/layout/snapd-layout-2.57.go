// snapd 2.57.6's own layout of a gadget (gadget.LayoutVolume, as snap pack and ubuntu-image use
// it), printed as JSON for the layout tests to compare with `snap-gadget layout --format json`.
// Usage: snapd-layout <gadget root with meta/gadget.yaml>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/snapcore/snapd/gadget"
	"github.com/snapcore/snapd/gadget/quantity"
)

type content struct {
	Image string `json:"image"`
	Start uint64 `json:"start"`
	Size  uint64 `json:"size"`
}

type structure struct {
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Type        string    `json:"type"`
	Filesystem  string    `json:"filesystem"`
	Label       string    `json:"label"`
	Start       uint64    `json:"start"`
	Size        uint64    `json:"size"`
	OffsetWrite *uint64   `json:"offset-write,omitempty"`
	Content     []content `json:"content"`
}

type volume struct {
	Name       string      `json:"name"`
	Schema     string      `json:"schema"`
	Bootloader string      `json:"bootloader"`
	Structures []structure `json:"structures"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: snapd-layout GADGET-ROOT")
		os.Exit(2)
	}
	root := os.Args[1]
	info, err := gadget.ReadInfo(root, nil)
	if err != nil {
		fail(err)
	}
	names := make([]string, 0, len(info.Volumes))
	for name := range info.Volumes {
		names = append(names, name)
	}
	sort.Strings(names)
	volumes := []volume{}
	for _, name := range names {
		vol := info.Volumes[name]
		laid, err := gadget.LayoutVolume(root, "", vol, gadget.LayoutConstraints{NonMBRStartOffset: 1 * quantity.OffsetMiB, SkipResolveContent: true})
		if err != nil {
			fail(err)
		}
		out := volume{Name: name, Schema: vol.Schema, Bootloader: vol.Bootloader, Structures: []structure{}}
		for _, ps := range laid.LaidOutStructure {
			s := structure{Name: ps.Name, Role: ps.Role, Type: ps.Type, Filesystem: ps.Filesystem, Label: ps.Label, Start: uint64(ps.StartOffset), Size: uint64(ps.Size), Content: []content{}}
			if ps.AbsoluteOffsetWrite != nil {
				at := uint64(*ps.AbsoluteOffsetWrite)
				s.OffsetWrite = &at
			}
			for _, c := range ps.LaidOutContent {
				s.Content = append(s.Content, content{Image: c.Image, Start: uint64(c.StartOffset), Size: uint64(c.Size)})
			}
			out.Structures = append(out.Structures, s)
		}
		volumes = append(volumes, out)
	}
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{"volumes": volumes})
}

func fail(err error) {
	json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
	os.Exit(1)
}
