import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Testing

/// A pretrained base model (a GGUF without a chat template, as the quick start's Gemma 3 270M) is asked with
/// documents to continue, through the commands and a stand-in llama-server that records its arguments and requests:
/// the server renders messages as plain text, a description is an encyclopedia section led by the keyword and ended
/// at the paragraph, a Type 2 question follows a worked example; a model with a chat template, or
/// `llm.local.prompting: chat`, is asked as a chat.
@Suite(.serialized) struct LocalDocumentPromptingTests {
    func fixture(model: Data, reply: String = FakeLlamaServer.description, extraRecipe: String = "") throws -> (LocalPipelineFixture, FakeLlamaServer) {
        var fixture = try LocalPipelineFixture(extraRecipe: extraRecipe)
        let fake = try FakeLlamaServer(in: fixture.dir.url, reply: reply)
        try model.write(to: fake.model)
        fixture.runner.environment["PATH"] = fake.path(fixture.runner.environment)
        try fixture.prepare()
        return (fixture, fake)
    }

    func messages(_ body: [String: Any]) -> [(role: String, content: String)] {
        ((body["messages"] as? [[String: Any]]) ?? []).map { ($0["role"] as? String ?? "", $0["content"] as? String ?? "") }
    }

    @Test func aBaseModelIsAskedWithDocumentsThroughDescribeMCQAndShards() throws {
        let (fixture, fake) = try fixture(model: GGUFFixture.baseModel)
        let describe = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(describe.status == 0, "\(describe.stderr)")
        #expect(describe.stderr.contains("asked with documents to continue"), "\(describe.stderr)")
        let arguments = fake.arguments
        let template = try #require(arguments.firstIndex(of: "--chat-template"), "\(arguments)")
        #expect(arguments.contains("--jinja") && arguments[template + 1] == DocumentPrompt.serverTemplate)

        let describeBodies = fake.requestBodies
        #expect(describeBodies.count == 2, "one request per description, \(describeBodies.count) sent")
        for body in describeBodies {
            let turns = messages(body)
            let keyword = try #require(LocalPipelineFixture.images.map(\.0).first { turns.first?.content.contains("\n\n\($0)\n\n") == true }, "\(turns)")
            #expect(turns.map(\.role) == ["user", "assistant"], "no system turn, the lead last: \(turns)")
            #expect(turns[0].content.hasSuffix("\n\nAppearance: ") && turns[0].content.hasPrefix("Encyclopedia of animal\n\nRed fox\n\nAppearance: The red fox"),
                    "the worked example, then the subject's section: \(turns[0].content)")
            #expect(turns[0].content.components(separatedBy: "Encyclopedia of ").count == 3)
            #expect(turns[0].content.hasSuffix("\n\n\(keyword)\n\nAppearance: "))
            #expect(turns[1].content == keyword)
            #expect(body["stop"] as? [String] == ["\n\n"])
        }
        let texts = try fixture.manifest { db in try Row.fetchAll(db, sql: """
            SELECT k.text AS keyword, d.text, d.status, d.template_sha256 FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
            """) }
        #expect(texts.count == 2 && texts.allSatisfy { $0["status"] as String == "accepted" }, "\(texts)")
        for row in texts {
            // The server gives the continued turn back whole: the description is the lead and its continuation, once.
            #expect((row["text"] as String) == (row["keyword"] as String) + " " + FakeLlamaServer.description, "\(row)")
        }

        let mcq = try fixture.dsbuild(["mcq", "--local-model", fake.model.path])
        #expect(mcq.status == 0, "\(mcq.stderr)")
        let questionBodies = fake.requestBodies.dropFirst(describeBodies.count)
        #expect(!questionBodies.isEmpty)
        for body in questionBodies {
            let turns = messages(body)
            #expect(turns.count == 1 && turns[0].role == "user", "\(turns)")
            let prompt = turns[0].content
            #expect(prompt.hasPrefix("Multiple-choice quiz questions") && prompt.hasSuffix("Question: "), "\(prompt)")
            let known = try #require(prompt.split(separator: "\n").last { $0.hasPrefix("Known: ") })
            #expect(known.contains(FakeLlamaServer.description.prefix(30)), "the subject's description, on one line: \(prompt)")
            #expect(body["response_format"] != nil, "the JSON grammar still holds the reply")
        }
        let questions = try fixture.manifest { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted'") ?? 0 }
        #expect(questions > 0)
        let shards = try fixture.dsbuild(["shards"])
        #expect(shards.status == 0, "\(shards.stderr)")
        let records = LocalPipelineFixture.textRecords(in: fixture.workspace.appendingPathComponent("shards/text"))
        #expect(records.contains { ($0["text"] as? String)?.contains(FakeLlamaServer.description) == true }, "the descriptions reach the text shards")
    }

    @Test func aDocumentReplyThatFailsTheChecksIsRejectedWithoutAFeedbackTurn() throws {
        let (fixture, fake) = try fixture(model: GGUFFixture.baseModel, reply: "is red.")
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        #expect(fake.requests == 2, "a base model reads no feedback: each description is asked once")
        let rows = try fixture.manifest { db in try Row.fetchAll(db, sql: "SELECT status, reason FROM descriptions") }
        #expect(rows.count == 2 && rows.allSatisfy { $0["status"] as String == "rejected" && $0["reason"] as String == "too_short" }, "\(rows)")
    }

    @Test func aDescriptionThatCopiesTheWorkedExampleIsRejectedAsACopy() throws {
        // Six words of the example in a row, and its subject: not eight in a row (no prompt echo), still a copy.
        let copied = "is a small wild animal that hunts at night. Its thick reddish-orange fur covers the back and sides, like a red fox in winter, and a glossy glaze makes every piece shine under the lamp of the market stall."
        let (fixture, fake) = try fixture(model: GGUFFixture.baseModel, reply: copied)
        #expect(try fixture.dsbuild(["describe", "--local-model", fake.model.path]).status == 0)
        let rows = try fixture.manifest { db in try Row.fetchAll(db, sql: "SELECT status, reason, detail FROM descriptions") }
        #expect(rows.count == 2 && rows.allSatisfy { $0["status"] as String == "rejected" && $0["reason"] as String == ExampleCopy.reason }, "\(rows)")
        #expect(rows.allSatisfy { ($0["detail"] as String).contains("the prompt's worked example") }, "\(rows)")
    }

    /// A FIFO named as the model blocked the first open for good (found by the attack on this path).
    @Test func aModelThatIsNoRegularFileIsRefusedAtOnce() throws {
        let (fixture, fake) = try fixture(model: GGUFFixture.baseModel)
        let fifo = fixture.dir.path("fifo.gguf")
        #expect(mkfifo(fifo.path, 0o644) == 0)
        for command in [["describe"], ["estimate"]] {
            let result = try fixture.dsbuild(command + ["--local-model", fifo.path])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("\(fifo.path) is not a regular file"), "\(result.stderr)")
        }
        #expect(fake.requests == 0)
    }

    @Test func aBaseModelWithAVisionProjectorIsAskedNothingAboutImagesAndSaysWhy() throws {
        let elsewhere = TemporaryDirectory("mmproj")
        let projector = elsewhere.path("mmproj.gguf")
        try GGUFFixture.chatModel.write(to: projector)
        let (fixture, fake) = try fixture(model: GGUFFixture.baseModel, extraRecipe: "    mmproj: \(projector.path)")
        let describe = try fixture.dsbuild(["describe", "--local-model", fake.model.path, "--modes", "image-grounded,text-only"])
        #expect(describe.status == 0, "\(describe.stderr)")
        #expect(describe.stderr.contains("image-grounded mode skipped: the local model is a base model asked with documents"), "\(describe.stderr)")
        let modes = try fixture.manifest { db in try String.fetchAll(db, sql: "SELECT DISTINCT mode FROM descriptions") }
        #expect(modes == ["text-only"])
        #expect(fake.requestBodies.allSatisfy { (($0["messages"] as? [[String: Any]])?.last?["role"] as? String) == "assistant" })
    }

    @Test(arguments: [("model", ""), ("setting", "    prompting: chat")])
    func aChatModelOrTheChatSettingIsAskedAsAChat(case kind: String, setting: String) throws {
        let (fixture, fake) = try fixture(model: kind == "model" ? GGUFFixture.chatModel : GGUFFixture.baseModel,
                                          extraRecipe: setting)
        let describe = try fixture.dsbuild(["describe", "--local-model", fake.model.path])
        #expect(describe.status == 0, "\(describe.stderr)")
        #expect(!describe.stderr.contains("asked with documents"))
        #expect(!fake.arguments.contains("--jinja") && !fake.arguments.isEmpty, "\(fake.arguments)")
        for body in fake.requestBodies {
            #expect(messages(body).map(\.role) == ["system", "user"] && body["stop"] == nil)
        }
    }
}
