package schemas

// The Go form of every payload, one type per event type and version; the JSON tags match the schemas in json/.
// Decoding never checks the schema's rules: call Validate or ValidateJSON for that.

// AccountRegisteredV1 is the payload of AccountRegistered v1.
type AccountRegisteredV1 struct {
	Name string `json:"name"`
}

// AccountRenamedV1 is the payload of AccountRenamed v1.
type AccountRenamedV1 struct {
	Name string `json:"name"`
}

// RoomCreatedV1 is the payload of RoomCreated v1; the creator is the room's first admin member.
type RoomCreatedV1 struct {
	Name      string `json:"name"`
	CreatedBy string `json:"created_by"`
}

// RoomRenamedV1 is the payload of RoomRenamed v1.
type RoomRenamedV1 struct {
	Name      string `json:"name"`
	RenamedBy string `json:"renamed_by"`
}

// MemberAddedV1 is the payload of MemberAdded v1, which had no role; Upcast turns it into MemberAddedV2.
type MemberAddedV1 struct {
	AccountID string `json:"account_id"`
	AddedBy   string `json:"added_by"`
}

// MemberAddedV2 is the payload of MemberAdded v2, the current version.
type MemberAddedV2 struct {
	AccountID string `json:"account_id"`
	Role      Role   `json:"role"`
	AddedBy   string `json:"added_by"`
}

// MemberRemovedV1 is the payload of MemberRemoved v1.
type MemberRemovedV1 struct {
	AccountID string `json:"account_id"`
	RemovedBy string `json:"removed_by"`
}

// MessagePostedV1 is the payload of MessagePosted v1.
type MessagePostedV1 struct {
	MessageID string `json:"message_id"`
	AuthorID  string `json:"author_id"`
	Text      string `json:"text"`
}

// MessageEditedV1 is the payload of MessageEdited v1.
type MessageEditedV1 struct {
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
	EditedBy  string `json:"edited_by"`
}

// MessageDeletedV1 is the payload of MessageDeleted v1.
type MessageDeletedV1 struct {
	MessageID string `json:"message_id"`
	DeletedBy string `json:"deleted_by"`
}

// RoomDeletedV1 is the payload of RoomDeleted v1.
type RoomDeletedV1 struct {
	DeletedBy string `json:"deleted_by"`
}
