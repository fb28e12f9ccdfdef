import Foundation

/// A stand-in for llama.cpp's `llama-server`, for tests that need a served local model but not a real one: a
/// Python program (the system's `python3`) written into a folder as `llama-server`, so a test puts that folder
/// first on `PATH` and `--local-model any.gguf` serves it on 127.0.0.1. It writes its pid to `pidFile`, answers
/// `/health` and `/v1/models`, and answers every chat completion with `reply` (finish reason `stop`), or with
/// `jsonReply` when the request asks for JSON (`response_format`: a Type 2 question); a request ending with an
/// assistant turn is continued, and that turn comes back with the reply (as llama.cpp's server does). It records
/// its arguments (`arguments`) and every request body (`requestBodies`).
/// `mode` changes what it does: `healthy` (the default), `neverHealthy` (answers `/health` 503 forever),
/// `exitOnFirstRequest` (exits with status 3 at the first chat completion, as a crashed server does).
public struct FakeLlamaServer: Sendable {
    public enum Mode: String, Sendable { case healthy, neverHealthy = "never", exitOnFirstRequest = "exit_on_request" }

    /// The folder holding `llama-server`: put it first on `PATH`.
    public let binDirectory: URL
    /// A GGUF-named file to pass as `--local-model` (the fake reads nothing from it).
    public let model: URL
    /// Where the server writes its pid once started.
    public let pidFile: URL
    /// One line per chat completion it received (its JSON body).
    public let requestLog: URL
    /// The arguments it was started with (a JSON array).
    public let argumentsFile: URL

    public init(in directory: URL, mode: Mode = .healthy, reply: String = FakeLlamaServer.description,
                jsonReply: String = FakeLlamaServer.question) throws {
        binDirectory = directory.appendingPathComponent("fakebin")
        model = directory.appendingPathComponent("fake-model.gguf")
        pidFile = directory.appendingPathComponent("fake-server.pid")
        requestLog = directory.appendingPathComponent("fake-server-requests.jsonl")
        argumentsFile = directory.appendingPathComponent("fake-server-args.json")
        try FileManager.default.createDirectory(at: binDirectory, withIntermediateDirectories: true)
        try Data("GGUF".utf8).write(to: model)
        let replyLiteral = String(decoding: try JSONSerialization.data(withJSONObject: [reply], options: .withoutEscapingSlashes), as: UTF8.self)
        let script = """
            #!/usr/bin/env python3
            import sys, os, json, http.server
            args = sys.argv[1:]
            port = int(args[args.index("--port") + 1])
            alias = args[args.index("--alias") + 1] if "--alias" in args else "fake"
            mode = \(String(decoding: try JSONSerialization.data(withJSONObject: [mode.rawValue], options: .withoutEscapingSlashes), as: UTF8.self))[0]
            reply = \(replyLiteral)[0]
            json_reply = \(String(decoding: try JSONSerialization.data(withJSONObject: [jsonReply], options: .withoutEscapingSlashes), as: UTF8.self))[0]
            open(\(String(decoding: try JSONSerialization.data(withJSONObject: [pidFile.path], options: .withoutEscapingSlashes), as: UTF8.self))[0], "w").write(str(os.getpid()))
            open(\(String(decoding: try JSONSerialization.data(withJSONObject: [argumentsFile.path], options: .withoutEscapingSlashes), as: UTF8.self))[0], "w").write(json.dumps(args))
            log = \(String(decoding: try JSONSerialization.data(withJSONObject: [requestLog.path], options: .withoutEscapingSlashes), as: UTF8.self))[0]
            class H(http.server.BaseHTTPRequestHandler):
                def log_message(self, *a): pass
                def send(self, code, obj):
                    body = json.dumps(obj).encode()
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def do_GET(self):
                    if self.path == "/health":
                        return self.send(503 if mode == "never" else 200, {"status": "loading" if mode == "never" else "ok"})
                    if self.path == "/v1/models":
                        return self.send(200, {"data": [{"id": alias}]})
                    self.send(404, {})
                def do_POST(self):
                    body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    with open(log, "a") as f: f.write(body.decode() + "\\n")
                    if mode == "exit_on_request":
                        os._exit(3)
                    request = json.loads(body)
                    content = json_reply if request.get("response_format") else reply
                    last = request["messages"][-1]
                    if last["role"] == "assistant" and not request.get("response_format"):
                        content = last["content"] + " " + content  # a continued turn comes back whole, as llama.cpp's does
                    self.send(200, {"id": "x", "object": "chat.completion", "model": alias,
                                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                                    "usage": {"prompt_tokens": 50, "completion_tokens": 40, "total_tokens": 90}})
            http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
            """
        let executable = binDirectory.appendingPathComponent("llama-server")
        try Data(script.utf8).write(to: executable)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: executable.path)
    }

    /// A description of a Korean dish that passes describe's checks.
    public static let description = """
        A shallow bowl holds a heap of deep red, glossy leaves with pale stalks, flecked with chilli flakes and thin \
        strips of spring onion. The surface looks wet and slightly shiny, and the pieces are cut into bite-sized squares \
        that lean against one another.
        """

    /// A Type 2 question that passes mcq's checks.
    public static let question = #"{"question": "Which ingredient gives this dish its red colour?", "answer": "Chilli powder", "distractors": ["Soy sauce", "Sesame oil", "Rice vinegar"], "aspect": "ingredients", "rationale": "The flakes are chilli."}"#

    /// `PATH` with the fake first.
    public func path(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        binDirectory.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
    }

    /// The pid the server wrote, once it started.
    public var pid: Int32? {
        (try? String(contentsOf: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The arguments it was last started with.
    public var arguments: [String] {
        (try? Data(contentsOf: argumentsFile)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String] } ?? []
    }

    /// The bodies of the chat completions it received.
    public var requestBodies: [[String: Any]] {
        ((try? String(contentsOf: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The chat completions it received.
    public var requests: Int {
        ((try? String(contentsOf: requestLog, encoding: .utf8)) ?? "").split(separator: "\n").count
    }
}
