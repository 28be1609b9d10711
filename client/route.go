package client

import "github.com/fotasync/fotasync/smp"

// Route is the command that carries upload chunks. A proxy's upload command
// takes the image group's keys plus a session id.
type Route struct {
	Group smp.Group
	ID    uint8
	SID   uint32 // sent as "sid" in every chunk when not 0
}

// imageUpload is the standard route: image group, upload command.
var imageUpload = Route{Group: smp.GroupImage, ID: smp.ImageUpload}

// sessionChunk is an upload chunk with the session id in front.
type sessionChunk struct {
	SID uint32 `cbor:"sid"`
	smp.UploadRequest
}

// body returns the CBOR body of one chunk on this route.
func (r Route) body(req smp.UploadRequest) any {
	if r.SID == 0 {
		return req
	}
	return sessionChunk{SID: r.SID, UploadRequest: req}
}
