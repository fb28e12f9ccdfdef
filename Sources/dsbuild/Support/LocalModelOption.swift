import ArgumentParser

/// `--local-model PATH|NAME`: serve this GGUF (or installed model) with llama.cpp's server for the command, as
/// `llm.local.model` does in a recipe.
struct LocalModelOption: ParsableArguments {
    @Option(name: .customLong("local-model"),
            help: "Serve this GGUF file (or a model `dsbuild models install` put in the cache) with llama.cpp's server on 127.0.0.1 for this command; no key needed (llm.local.model).")
    var path: String?
}
