package serial

// crcTable holds CRC-16/XMODEM of every byte value, one table lookup per
// input byte.
var crcTable = makeCRCTable()

// CRC16 returns the CRC-16/XMODEM of data: polynomial 0x1021, initial value
// 0, no reflection, no final XOR (Zephyr's crc16_itu_t with seed 0). Its check
// value, over "123456789", is 0x31C3. A receiver checks a packet by running
// CRC16 over the packet followed by its big-endian CRC: the result is 0.
func CRC16(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^b]
	}
	return crc
}

func makeCRCTable() (t [256]uint16) {
	for i := range t {
		crc := uint16(i) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		t[i] = crc
	}
	return t
}
