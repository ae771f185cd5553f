package textpos

import "testing"

func TestLine(t *testing.T) {
	text := "ab\ncd\n\ne"
	want := []int{1, 1, 1, 2, 2, 2, 3, 4}
	for _, l := range []Lines{New(text), New([]byte(text))} {
		for off, w := range want {
			if got := l.Line(off); got != w {
				t.Errorf("Line(%d) = %d, want %d", off, got, w)
			}
		}
	}
}
