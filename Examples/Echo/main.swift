import Weft

#if canImport(Glibc)
    import Glibc
#endif

/// The listener's side: answers every request with the same bytes (on the connection's IO thread).
final class Echo: ConnectionHandler {
    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        guard frame.kind == .request, let reply = try? connection.reserve(capacity: frame.count) else { return }
        frame.withPayload { reply.payload.copyMemory(from: $0) }  // into the transport's own memory
        reply.commit(kind: .response, length: frame.count, correlation: frame.header.correlation)
    }
    func closed(_ connection: any TransportConnection, error: TransportError?) {}
}

/// The client's side: hands each reply to the main task.
final class Replies: ConnectionHandler {
    let (stream, continuation) = AsyncStream.makeStream(of: String.self)
    func received(_ frame: consuming ReceivedFrame, on connection: any TransportConnection) {
        continuation.yield(frame.withPayload { String(decoding: $0, as: UTF8.self) })
    }
    func closed(_ connection: any TransportConnection, error: TransportError?) { continuation.finish() }
}

// Transport, IO threads, limits and logging from the configuration: these flags, then
// WEFT_* variables, then a config file, then the defaults (docs/configuration.md).
let node = try await WeftNode.start(flags: ["transport": "tcp"])
let listener = try node.listen(at: "127.0.0.1:0") { _ in Echo() }
let replies = Replies()
let connection = try node.connect(to: listener.address, handler: replies)

do {
    let message = Array("hello, weft".utf8)
    let request = try connection.reserve(capacity: message.count)  // space in the transport's memory
    request.payload.copyBytes(from: message)  // written in place
    request.commit(kind: .request, length: message.count, correlation: 1)  // sent
}

let timeout = Task {
    try await Task.sleep(for: .seconds(10))
    replies.continuation.finish()
}
var echoed: String?
for await reply in replies.stream {
    echoed = reply
    break
}
timeout.cancel()
print(echoed.map { "echo: \($0)" } ?? "no echo within 10 s")

connection.close()
listener.close()
node.shutdown()
if echoed == nil { exit(1) }
