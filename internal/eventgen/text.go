package eventgen

import (
	"strconv"
	"unicode/utf8"
)

// maxTextRunes is the longest message text the schema allows, in code points.
const maxTextRunes = 10_000

// words are the vocabulary (no character in them needs escaping in JSON) of message texts, English and Japanese. Texts draw the first ones far more often
// than the last ones, so search tests find common words ("meeting", "会議", "deploy") in many messages and rare
// ones in a few.
var words = []string{
	"meeting", "会議", "deploy", "明日の会議は10時からです", "tomorrow", "明日", "release", "資料", "review",
	"please", "よろしくお願いします", "thanks", "ありがとうございます", "lunch", "昼ごはん", "bug", "障害", "fix",
	"対応中", "test", "テスト", "build", "the", "a", "is", "on", "at", "for", "kafka", "postgres", "search",
	"検索", "index", "インデックス", "room", "schedule", "予定", "today", "今日", "morning", "afternoon",
	"coffee", "update", "status", "進捗", "design", "api", "latency", "dashboard", "customer", "report",
	"議事録", "draft", "ship", "merge", "branch", "pipeline", "event", "ok", "了解です", "great", "sounds",
	"good", "let's", "check", "確認します", "later", "weekend", "週末", "project", "プロジェクト", "deadline",
	"締め切り", "budget", "invoice", "office", "東京", "大阪", "remote", "call", "standup", "retro", "sprint",
	"ticket", "alert", "outage", "backup", "共有フォルダ", "お疲れさまです", "少し遅れます", "完了しました",
	"データベース", "リリース", "レビュー", "デプロイ", "🙏", "🎉", "👍", "10時", "3pm", "v2.4.1", "#42",
}

// wordRunes holds the length of each word in code points.
var wordRunes = func() []int {
	out := make([]int, len(words))
	for i, w := range words {
		out[i] = utf8.RuneCountInString(w)
	}
	return out
}()

var (
	firstNames = []string{"Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "太郎", "花子", "健太",
		"さくら", "翔", "美咲", "大輔", "Yuki"}
	lastNames = []string{"Tanaka", "Suzuki", "Smith", "Jones", "García", "佐藤", "鈴木", "高橋", "渡辺", "伊藤",
		"Nguyen", "Müller"}
	teams     = []string{"dev", "ops", "営業", "デザイン", "QA", "support"}
	roomNames = []string{"general", "random", "dev", "design", "営業", "開発チーム", "雑談", "プロジェクトA",
		"release-train", "incident", "東京オフィス", "読書会"}
)

// appendText appends a message text of 1 to maxTextRunes code points as a JSON string: usually a few words,
// sometimes a paragraph, rarely a very long one, with the odd newline or tab between words. The words need no
// escaping, so the text is written straight into the payload.
func (g *Generator) appendText(dst []byte) []byte {
	var n int
	switch p := g.rng.IntN(1000); {
	case p < 850:
		n = 1 + g.rng.IntN(15)
	case p < 970:
		n = 15 + g.rng.IntN(60)
	case p < 995:
		n = 75 + g.rng.IntN(400)
	default:
		n = 2000 + g.rng.IntN(2000) // some reach the limit
	}
	dst = append(dst, '"')
	runes := 0
	for i := range n {
		r := g.rng.Float64()
		w := int(r * r * float64(len(words)))
		need := wordRunes[w]
		if i > 0 {
			need++
		}
		if runes+need > maxTextRunes {
			break
		}
		if i > 0 {
			switch s := g.rng.IntN(100); {
			case s < 3:
				dst = append(dst, '\\', 'n')
			case s < 4:
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, words[w]...)
		runes += need
	}
	return append(dst, '"')
}

// personName returns an account's display name.
func (g *Generator) personName() string {
	name := firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))]
	if g.rng.IntN(4) == 0 {
		name += " (" + teams[g.rng.IntN(len(teams))] + ")"
	}
	return name
}

// roomName returns a room's name.
func (g *Generator) roomName() string {
	return roomNames[g.rng.IntN(len(roomNames))] + " " + strconv.Itoa(1+g.rng.IntN(999))
}
