package serial

import "testing"

func TestCRC16(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want uint16
	}{
		{"check value", []byte("123456789"), 0x31C3},
		{"TV1 request", tv1Request, tv1RequestCRC},
		{"TV1 response", tv1Response, tv1ResponseCRC},
		{"TV1 response and its CRC", append(append([]byte(nil), tv1Response...), 0x2D, 0xD7), 0},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		if got := CRC16(tt.data); got != tt.want {
			t.Errorf("CRC16(%s) = %#04x, want %#04x", tt.name, got, tt.want)
		}
	}
}
