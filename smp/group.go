package smp

import "fmt"

// Group is an SMP management group number.
type Group uint16

// Groups defined by MCUmgr. Numbers from 64 up belong to applications.
const (
	GroupOS        Group = 0
	GroupImage     Group = 1
	GroupStat      Group = 2
	GroupSettings  Group = 3
	GroupLog       Group = 4
	GroupCrash     Group = 5
	GroupSplit     Group = 6
	GroupRun       Group = 7
	GroupFS        Group = 8
	GroupShell     Group = 9
	GroupEnum      Group = 10
	GroupTransport Group = 11
	GroupZephyr    Group = 63
	GroupUserFirst Group = 64
)

var groupNames = map[Group]string{
	GroupOS: "os", GroupImage: "image", GroupStat: "stat", GroupSettings: "settings",
	GroupLog: "log", GroupCrash: "crash", GroupSplit: "split", GroupRun: "run", GroupFS: "fs",
	GroupShell: "shell", GroupEnum: "enum", GroupTransport: "transport", GroupZephyr: "zephyr",
}

func (g Group) String() string {
	if name, ok := groupNames[g]; ok {
		return name
	}
	return fmt.Sprintf("group %d", uint16(g))
}

// OS group commands.
const (
	OSEcho       uint8 = 0
	OSTaskStats  uint8 = 2
	OSMemPool    uint8 = 3
	OSDateTime   uint8 = 4
	OSReset      uint8 = 5
	OSParams     uint8 = 6
	OSInfo       uint8 = 7
	OSBootloader uint8 = 8
)

// Image group commands.
const (
	ImageState    uint8 = 0
	ImageUpload   uint8 = 1
	ImageErase    uint8 = 5
	ImageSlotInfo uint8 = 6
)

var commandNames = map[Group]map[uint8]string{
	GroupOS: {OSEcho: "echo", OSTaskStats: "task stats", OSMemPool: "memory pool stats",
		OSDateTime: "date-time", OSReset: "reset", OSParams: "mcumgr params", OSInfo: "os info",
		OSBootloader: "bootloader info"},
	GroupImage: {ImageState: "image state", ImageUpload: "image upload", ImageErase: "image erase",
		ImageSlotInfo: "slot info"},
}

// CommandName names a command for messages: "os reset", "image upload", or
// "group 64 command 2" for a command this package does not know.
func CommandName(g Group, id uint8) string {
	if name, ok := commandNames[g][id]; ok {
		if g == GroupOS {
			return "os " + name
		}
		return name
	}
	return fmt.Sprintf("%s command %d", g, id)
}
