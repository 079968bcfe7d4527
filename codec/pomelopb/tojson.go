package pomelopb

import "strconv"

// AppendJSON decodes wire, a message of type m, and appends it as JSON text: the object
// pomelo's Node decoder returns, as JSON.stringify writes it. Fields come in wire order
// (JavaScript would list field names that are array indexes, such as "7", first: the object is
// the same), repeated fields as arrays (a run of zero numbers gives []), numbers as JavaScript
// prints them (a float 0.1 reads back as 0.10000000149011612; NaN and infinities, which JSON
// lacks, as null), strings decoded from UTF-8 with invalid bytes replaced by U+FFFD as Node does.
//
// Errors are those of Decoder (ErrUnknownTag, ErrTruncated, ErrVarintOverflow,
// ErrDuplicateField, ErrMissingRequired, ErrTooDeep); on error dst is returned as given (its
// spare capacity may have been written). It does not allocate unless a message has more than 256
// fields.
func (m *Message) AppendJSON(dst, wire []byte) ([]byte, error) {
	var d Decoder
	d.Reset(m, wire)
	out, err := appendJSONMessage(dst, &d)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendJSONMessage(dst []byte, d *Decoder) ([]byte, error) {
	dst = append(dst, '{')
	var open *Field // the repeated field whose array is open
	elems := 0      // elements written in the open array
	for n := 0; ; n++ {
		f, err := d.Next()
		if err != nil {
			return dst, err
		}
		if open != nil && f != open {
			dst = append(dst, ']')
			open = nil
		}
		if f == nil {
			return append(dst, '}'), nil
		}
		if f == open {
			n-- // another run or element of the open array
		} else {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, f.key...)
			if f.rule == Repeated {
				dst = append(dst, '[')
				open, elems = f, 0
			}
		}
		for d.Remaining() > 0 {
			if open != nil {
				if elems > 0 {
					dst = append(dst, ',')
				}
				elems++
			}
			if dst, err = appendJSONValue(dst, d); err != nil {
				return dst, err
			}
		}
	}
}

// appendJSONValue reads one value of the current field and appends it as JSON.
func appendJSONValue(dst []byte, d *Decoder) ([]byte, error) {
	switch d.field.typ {
	case TypeUInt32:
		v, err := d.Uint32()
		return strconv.AppendUint(dst, uint64(v), 10), err
	case TypeSInt32, TypeInt32:
		v, err := d.Int32()
		return strconv.AppendInt(dst, int64(v), 10), err
	case TypeFloat, TypeDouble:
		v, err := d.Number()
		return appendJSNumber(dst, v), err
	case TypeString:
		b, err := d.BytesUnsafe()
		return appendJSString(dst, b, false), err
	}
	var sub Decoder
	if err := d.Sub(&sub); err != nil {
		return dst, err
	}
	return appendJSONMessage(dst, &sub)
}
