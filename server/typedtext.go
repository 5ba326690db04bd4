package server

import (
	"encoding/json"

	"github.com/ducktail/ducktail/base"
	"github.com/ducktail/ducktail/engine"
	"github.com/ducktail/ducktail/engine/jtd"
)

// jsonContentType is what a typed event made from text (a CSV row, a form)
// is stored as.
const jsonContentType = "application/json"

// typedJSON returns obj, fields read as text, as the JSON of what sch says
// they are (jtd.Coerce); the engine then validates it.
func typedJSON(sch *jtd.Schema, obj map[string]any) ([]byte, error) {
	return json.Marshal(jtd.Coerce(sch, obj))
}

// typedForm turns ev, a form of a type with a JSON Type Definition, into
// the JSON object of its fields (formObject, converted by jtd.Coerce). A
// urlencoded body that is JSON already (curl -d sends JSON with the form
// content type) is left as it is.
func typedForm(st *engine.Stream, ev *engine.Event, media string) error {
	t, ok := st.EventType(ev.Type)
	if !ok || (media != formURLEncoded && media != formMultipart) {
		return nil
	}
	if media == formURLEncoded && json.Valid(ev.Data) {
		return nil
	}
	obj, err := formObject(media, ev.ContentType, ev.Data)
	if err != nil {
		return err
	}
	data, err := typedJSON(t.Schema, obj)
	if err != nil {
		return base.Errorf(base.ErrInvalid, "form: %v", err)
	}
	ev.Data, ev.ContentType = data, jsonContentType
	return nil
}
