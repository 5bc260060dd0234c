package ports

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/cqrses-aws/pipeline/writer/app"
	"github.com/cqrses-aws/pipeline/writer/domain"
)

// replayable reports whether a command that failed with err may have lost to another try of itself with the
// same Idempotency-Key, so that the key's record, not err, is the answer. That is the case for a key another try
// recorded first, and for any rejection by the state: a concurrent try that appended first changes the state
// (the member is added, the message deleted) so that this try is refused, and its record was written in the same
// transaction as its events. It is not the case when the store could not be reached or the input is invalid.
func replayable(err error) bool {
	return !errors.Is(err, app.ErrUnavailable) && !errors.Is(err, app.ErrContention) && !errors.Is(err, domain.ErrInvalid)
}

// replay answers with the response recorded under key when there is one: as it was when the request matches,
// 422 when the key was used for another request. It reports whether it answered.
func (s *HTTPServer) replay(c *gin.Context, key, hash string) bool {
	resp, recordedHash, found, err := s.idem.Lookup(c.Request.Context(), key)
	if err != nil {
		writeError(c, s.log, err)
		return true
	}
	if !found {
		return false
	}
	if recordedHash != hash {
		writeError(c, s.log, errIdempotencyMismatch)
		return true
	}
	var stored storedResponse
	if err := json.Unmarshal(resp, &stored); err != nil {
		writeError(c, s.log, fmt.Errorf("decode recorded response: %w", err))
		return true
	}
	var body commandResponse
	if err := json.Unmarshal(stored.Body, &body); err == nil {
		c.Header("ETag", fmt.Sprintf(`"%d"`, body.Version))
	}
	c.Header("Idempotent-Replayed", "true")
	c.Data(stored.Status, "application/json; charset=utf-8", stored.Body)
	return true
}
