package ws

import "encoding/binary"

// Unmask XORs b in place with the masking key (RFC 6455 §5.3). pos is the
// offset of b[0] within the frame payload, so that a payload may be unmasked
// in pieces: call Unmask(key, pos, piece) and add len(piece) to pos. Masking
// and unmasking are the same operation.
//
// It works on 8 bytes at a time and does not allocate.
func Unmask(key [4]byte, pos int, b []byte) {
	// k32 holds the key rotated so that its low byte applies to b[0]; in
	// little-endian loads the low byte is the first one in memory.
	k32 := binary.LittleEndian.Uint32(key[:])
	if s := uint(pos&3) * 8; s != 0 {
		k32 = k32>>s | k32<<(32-s)
	}
	if len(b) >= 8 {
		k64 := uint64(k32)<<32 | uint64(k32)
		for len(b) >= 32 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			binary.LittleEndian.PutUint64(b[8:], binary.LittleEndian.Uint64(b[8:])^k64)
			binary.LittleEndian.PutUint64(b[16:], binary.LittleEndian.Uint64(b[16:])^k64)
			binary.LittleEndian.PutUint64(b[24:], binary.LittleEndian.Uint64(b[24:])^k64)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
			b = b[8:]
		}
	}
	// Whole multiples of 8 leave the key phase unchanged.
	for i := range b {
		b[i] ^= byte(k32 >> (8 * (i & 3)))
	}
}
