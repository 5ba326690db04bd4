package base

import (
	"errors"
	"strings"
	"testing"
)

func TestStreamNames(t *testing.T) {
	f := func(s string, ok bool) {
		t.Helper()
		_, err := ParseStreamName(s)
		if (err == nil) != ok {
			t.Fatalf("ParseStreamName(%q) = %v, want ok=%v", s, err, ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ParseStreamName(%q): error %v is not ErrInvalid", s, err)
		}
	}
	f("demo/events", true)
	f("a/b-c_d", true)
	f("0/9", true)
	f("demo", false)
	f("/events", false)
	f("demo/", false)
	f("Demo/events", false)
	f("demo/_x", false)
	f("demo/this", false)
	f("demo/dispatch", false)
	f("demo/request", false)
	f("-a/b", false)
	f("a/b.c", false)
	f("a/"+string(make([]byte, 64)), false)
}

func TestNameErrorNamesTheCharacter(t *testing.T) {
	err := ValidateAccount("caf\u00e9")
	if err == nil || !strings.Contains(err.Error(), `'é' at byte 3`) {
		t.Fatalf("error %v does not name the character", err)
	}
}

func TestErrorKinds(t *testing.T) {
	cause := errors.New("disk on fire")
	err := Errorf(ErrOverCapacity, "wal: cannot write: %w", cause)
	if !errors.Is(err, ErrOverCapacity) || !errors.Is(err, cause) {
		t.Fatalf("kind or cause lost: %v", err)
	}
	if KindOf(err) != ErrOverCapacity {
		t.Fatalf("KindOf = %v", KindOf(err))
	}
	if KindOf(errors.New("x")) != nil {
		t.Fatal("plain error has a kind")
	}
	wrapped := errors.Join(errors.New("outer"), Errorf(ErrNotFound, "stream %q", "a/b"))
	if KindOf(wrapped) != ErrNotFound {
		t.Fatalf("KindOf(joined) = %v", KindOf(wrapped))
	}
}
