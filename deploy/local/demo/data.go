package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// DemoAccount is the account whose token the loader prints: a member of most rooms, not of all, so that the
// query API's authorization shows.
const DemoAccount = "demo"

// Account is one account of the data set; its id is the JWT subject it acts as.
type Account struct {
	ID   string
	Name string
	// Short is how others address it in messages.
	Short string
	// Japanese accounts mostly write Japanese.
	Japanese bool
	// Rename, when set, is the name the account takes at the end of the load.
	Rename string
}

// Member is an account added to a room, with its role (member or admin).
type Member struct {
	AccountID string
	Role      string
}

// Room is one room of the data set: created by Creator (its first admin), then given Members.
type Room struct {
	Name    string
	Creator string
	Members []Member
	// JapaneseShare is the part of its messages written in Japanese, 0 to 1.
	JapaneseShare float64
	// Weight is its share of the messages relative to the other rooms.
	Weight int
	// Rename, when set, is the name the room takes at the end of the load.
	Rename string
}

// Message is one post: its author writes Text in room Room (an index into Plan.Rooms), then edits it to Edit
// when that is set, and DeletedBy (the author or a room admin) deletes it when that is set.
type Message struct {
	Room      int
	Author    string
	Text      string
	Edit      string
	DeletedBy string
}

// Plan is the whole data set, in the order the loader applies it.
type Plan struct {
	Accounts []Account
	Rooms    []Room
	Messages []Message
}

// accounts are the people of the demo: readable ids, as they are the JWT subjects.
var accounts = []Account{
	{ID: DemoAccount, Name: "Demo User", Short: "Demo"},
	{ID: "alice", Name: "Alice Johnson", Short: "Alice"},
	{ID: "bob", Name: "Bob Smith", Short: "Bob", Rename: "Bob Smith (on leave)"},
	{ID: "carol", Name: "Carol Martinez", Short: "Carol"},
	{ID: "dave", Name: "Dave Wilson", Short: "Dave"},
	{ID: "emma", Name: "Emma Brown", Short: "Emma"},
	{ID: "yuki", Name: "佐藤 由紀", Short: "佐藤", Japanese: true},
	{ID: "haruto", Name: "田中 陽翔", Short: "田中", Japanese: true, Rename: "田中 陽翔 (PM)"},
	{ID: "sakura", Name: "鈴木 さくら", Short: "鈴木", Japanese: true},
	{ID: "kenji", Name: "高橋 健二", Short: "高橋", Japanese: true},
	{ID: "aoi", Name: "伊藤 葵", Short: "伊藤", Japanese: true},
	{ID: "ren", Name: "渡辺 蓮", Short: "渡辺", Japanese: true, Rename: "Ren Watanabe 渡辺 蓮"},
}

func members(admins []string, rest ...string) []Member {
	var ms []Member
	for _, a := range admins {
		ms = append(ms, Member{AccountID: a, Role: "admin"})
	}
	for _, m := range rest {
		ms = append(ms, Member{AccountID: m, Role: "member"})
	}
	return ms
}

// rooms are the rooms of the demo; the demo account is in six of the eight.
var rooms = []Room{
	{Name: "general", Creator: DemoAccount, JapaneseShare: 0.4, Weight: 6,
		Members: members([]string{"alice"}, "bob", "carol", "dave", "emma", "yuki", "haruto", "sakura", "kenji", "aoi", "ren")},
	{Name: "開発チーム", Creator: "haruto", JapaneseShare: 0.85, Weight: 5,
		Members: members([]string{"yuki"}, DemoAccount, "kenji", "ren", "alice", "bob")},
	{Name: "release-planning", Creator: "alice", JapaneseShare: 0.25, Weight: 4, Rename: "release-planning (Q3)",
		Members: members(nil, DemoAccount, "bob", "carol", "haruto", "sakura")},
	{Name: "雑談", Creator: "sakura", JapaneseShare: 0.8, Weight: 4, Rename: "雑談・random",
		Members: members(nil, DemoAccount, "emma", "yuki", "haruto", "kenji", "aoi", "ren")},
	{Name: "incident-response", Creator: "carol", JapaneseShare: 0.3, Weight: 3,
		Members: members([]string{"dave"}, DemoAccount, "kenji", "aoi", "bob")},
	{Name: "デザインレビュー", Creator: "aoi", JapaneseShare: 0.7, Weight: 2,
		Members: members(nil, DemoAccount, "emma", "sakura", "alice")},
	{Name: "経営会議", Creator: "kenji", JapaneseShare: 0.9, Weight: 2,
		Members: members(nil, "alice", "haruto", "yuki")},
	{Name: "hiring-committee", Creator: "emma", JapaneseShare: 0.2, Weight: 1,
		Members: members(nil, "carol", "ren", "dave")},
}

// Word lists the templates draw from; they hold the words a newcomer searches for ("deploy", "incident",
// "会議", "リリース").
var (
	services = []string{"payments-api", "search", "auth", "chat-gateway", "notifier", "billing", "queryapi", "relay"}
	envs     = []string{"staging", "production", "dev"}
	daysEN   = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "tomorrow", "next week"}
	daysJA   = []string{"月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "明日", "来週"}
	timesEN  = []string{"9:30", "10:00", "11:00", "13:30", "15:00", "16:30", "17:00"}
	timesJA  = []string{"9時半", "10時", "11時", "13時半", "15時", "16時半", "17時"}
	topicsEN = []string{"the Q3 roadmap", "the on-call rotation", "search relevance", "the new onboarding flow",
		"the cost of the staging cluster", "the database migration", "flaky tests in CI", "the mobile release"}
	topicsJA = []string{"Q3のロードマップ", "オンコール当番", "検索の精度", "新しいオンボーディング", "ステージング環境のコスト",
		"データベース移行", "CIの不安定なテスト", "モバイル版のリリース"}
	meetingsEN = []string{"standup", "retro", "planning meeting", "design review", "1:1", "all-hands"}
	meetingsJA = []string{"定例会議", "振り返り会議", "企画会議", "デザインレビュー", "1on1", "全体会議"}
	emojis     = []string{"👍", "🙏", "🎉", "✅", "👀", "🔥", "😅", ""}
)

// templatesEN and templatesJA are chat lines with slots: {svc} {env} {ver} {day} {time} {topic} {meeting}
// {who} {num} {emoji}.
var (
	templatesEN = []string{
		"Deploy of {svc} {ver} to {env} is done {emoji}",
		"Starting the deploy of {svc} {ver} to {env} now",
		"Can we move the {meeting} to {day} at {time}?",
		"Incident: {svc} error rate is up to {num}% in {env}, looking into it",
		"Incident resolved: {svc} is back to normal in {env}. Postmortem to follow.",
		"Release {ver} is planned for {day}. Please merge by {time}.",
		"@{who} could you review my PR for {svc}?",
		"Thanks {who}! {emoji}",
		"Heads up: {svc} is in maintenance on {day} at {time}",
		"The postmortem for the {svc} incident is up, please comment by {day}",
		"Agenda for {day}'s {meeting}:\n- {topic}\n- {topic}\n- AOB",
		"LGTM {emoji}",
		"Rolling back {svc} {ver}: p99 latency spiked to {num} ms",
		"Who is on call this week? I need a hand with {svc}",
		"Quick question about {topic}: is there a doc somewhere?",
		"Notes from the {meeting} are in the wiki. Main point: {topic}.",
		"Load test of {svc}: {num}k requests/s, p99 {num} ms {emoji}",
		"I'll be out {day}, {who} covers for me",
	}
	templatesJA = []string{
		"{day}の{meeting}は{time}からです",
		"{svc}の{env}へのデプロイが完了しました{emoji}",
		"これから{svc} {ver}を{env}にデプロイします",
		"リリース{ver}は{day}予定です。{time}までにマージをお願いします",
		"{who}さん、{svc}のレビューをお願いできますか？",
		"障害発生：{env}の{svc}でエラー率が{num}%に上がっています。調査中です",
		"インシデント対応完了です。{svc}は正常に戻りました",
		"インシデントの振り返り会議を{day}{time}に設定しました",
		"ありがとうございます！{emoji}",
		"お疲れさまです。{topic}について相談させてください",
		"{day}の会議の議題：\n・{topic}\n・{topic}\n・その他",
		"ランチ行きませんか？🍜",
		"{svc}の負荷試験の結果、p99は{num}msでした",
		"{who}さん、{day}の{meeting}に参加できますか？",
		"{topic}の資料を共有します。ご確認ください{emoji}",
		"了解です{emoji}",
		"{svc} {ver}のリリースノートを書きました",
		"{day}はお休みをいただきます。{who}さんに引き継ぎ済みです",
	}
	editSuffixEN = []string{" (edited: time changed to {time})", " — correction: {env}, not production", " (updated)"}
	editSuffixJA = []string{"（訂正：{time}に変更）", "（追記：{topic}も議題に入れます）", "（修正しました）"}
)

// Generate returns the data set with n messages; the same seed gives the same plan.
func Generate(seed uint64, n int) Plan {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	p := Plan{Accounts: accounts, Rooms: rooms}
	byID := map[string]Account{}
	for _, a := range accounts {
		byID[a.ID] = a
	}
	total := 0
	for _, r := range rooms {
		total += r.Weight
	}
	for range n {
		// Rooms by weight, authors uniformly among the room's people.
		w := rng.IntN(total)
		ri := 0
		for w >= rooms[ri].Weight {
			w -= rooms[ri].Weight
			ri++
		}
		room := rooms[ri]
		people := peopleOf(room)
		author := byID[people[rng.IntN(len(people))]]
		japanese := rng.Float64() < room.JapaneseShare
		// A Japanese speaker in a mixed room writes Japanese more often, and the other way round.
		if author.Japanese && !japanese && rng.IntN(3) == 0 || !author.Japanese && japanese && rng.IntN(3) == 0 {
			japanese = !japanese
		}
		others := make([]string, 0, len(people)-1)
		for _, id := range people {
			if id != author.ID {
				others = append(others, byID[id].Short)
			}
		}
		m := Message{Room: ri, Author: author.ID, Text: line(rng, japanese, others)}
		switch x := rng.IntN(100); {
		case x < 4:
			m.Edit = m.Text + fill(rng, pick(rng, editSuffix(japanese)), japanese, others)
		case x < 6:
			m.DeletedBy = author.ID
		case x < 7:
			m.DeletedBy = room.Creator // admins may delete any message
		}
		p.Messages = append(p.Messages, m)
	}
	return p
}

// peopleOf returns the ids of a room's creator and members.
func peopleOf(r Room) []string {
	ids := []string{r.Creator}
	for _, m := range r.Members {
		ids = append(ids, m.AccountID)
	}
	return ids
}

func editSuffix(japanese bool) []string {
	if japanese {
		return editSuffixJA
	}
	return editSuffixEN
}

// line returns one chat line in Japanese or English addressing one of others (names of the room's people).
func line(rng *rand.Rand, japanese bool, others []string) string {
	if japanese {
		return fill(rng, pick(rng, templatesJA), true, others)
	}
	return fill(rng, pick(rng, templatesEN), false, others)
}

// fill replaces every slot of tmpl, each occurrence drawn anew.
func fill(rng *rand.Rand, tmpl string, japanese bool, others []string) string {
	days, times, topics, meetings := daysEN, timesEN, topicsEN, meetingsEN
	if japanese {
		days, times, topics, meetings = daysJA, timesJA, topicsJA, meetingsJA
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		switch slot := tmpl[i+1 : i+j]; slot {
		case "svc":
			b.WriteString(pick(rng, services))
		case "env":
			b.WriteString(pick(rng, envs))
		case "ver":
			fmt.Fprintf(&b, "v%d.%d.%d", 1+rng.IntN(3), rng.IntN(20), rng.IntN(10))
		case "day":
			b.WriteString(pick(rng, days))
		case "time":
			b.WriteString(pick(rng, times))
		case "topic":
			b.WriteString(pick(rng, topics))
		case "meeting":
			b.WriteString(pick(rng, meetings))
		case "who":
			b.WriteString(pick(rng, others))
		case "num":
			fmt.Fprintf(&b, "%d", 2+rng.IntN(400))
		case "emoji":
			b.WriteString(pick(rng, emojis))
		default:
			b.WriteString(tmpl[i : i+j+1])
		}
		tmpl = tmpl[i+j+1:]
	}
	return strings.TrimSpace(b.String())
}

func pick(rng *rand.Rand, from []string) string { return from[rng.IntN(len(from))] }
