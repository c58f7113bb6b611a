import Testing
import WeftConformance
import WeftCore

@testable import WeftTCP

#if canImport(Glibc)
    import Glibc
#endif

extension TCPTests {
    /// Who may connect: the cluster secret, and loopback only without one.
    @Suite struct Security {
        @Test func secretFileOnBothSidesAuthenticates() throws {
            let file = try TCPSecretFile()
            defer { file.remove() }
            let pair = try TCPPair(serverSecret: try file.load(), clientSecret: try file.load())
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in EchoHandler() }
            defer { listener.close() }
            let replies = CollectingHandler()
            let connection = try pair.connect(to: listener, handler: replies)
            try connection.send([1, 2, 3], kind: .request, correlation: 9)
            #expect(replies.wait { $0.frameCount == 1 })
            #expect(replies.frames.first?.payload == [1, 2, 3])
            connection.close()
        }

        /// The registry's way in: `--secret-file` in the configuration loads the secret.
        @Test func descriptorLoadsTheSecretFile() async throws {
            let file = try TCPSecretFile()
            defer { file.remove() }
            let loader = try await ConfigurationLoader.load(flags: ["secret-file": file.path], environment: [:])
            let configuration = try WeftConfiguration(loader)
            let runtime = try IORuntime(progress: .sleep, name: "tcp-desc")
            defer { runtime.shutdown() }
            let transport = try TCPTransportModule.descriptor.make(TransportContext(runtime: runtime), configuration)
            #expect(transport.name == "tcp")
            #expect((transport as! TCPTransport).context.secret != nil)
            #expect(TCPTransportModule.descriptor.probe() == .available)
            #expect(transport.capabilities.zeroCopyReceive && transport.capabilities.reliable)
        }

        /// Different secrets: the connector refuses the acceptor's proof, the acceptor logs
        /// and closes, and keeps serving peers that hold the right secret.
        @Test func differentSecretsFailOnBothSides() throws {
            let right = try TCPSecretFile(contents: "the-right-secret-0123456789")
            let wrong = try TCPSecretFile(contents: "the-wrong-secret-0123456789")
            defer {
                right.remove()
                wrong.remove()
            }
            let pair = try TCPPair(serverSecret: try right.load(), clientSecret: try wrong.load())
            defer { pair.shutdown() }
            let received = CollectingHandler()
            let listener = try pair.listen { _ in received }
            defer { listener.close() }
            do {
                _ = try pair.connect(to: listener)
                Issue.record("a connector with the wrong secret got in")
            } catch {
                guard case .handshakeFailed(let why) = error as! TransportError else {
                    Issue.record("expected handshakeFailed, got \(error)")
                    return
                }
                #expect(why.contains("secret"))
            }
            #expect(pair.serverLog.wait(for: "during the handshake"))
            // A raw peer with the wrong secret that sends its auth anyway is refused by the acceptor.
            // (It cannot compute the proof: any 32 bytes will do.)
            let raw = try TCPRawClient(connectingTo: listener.address)
            let hello = ConnectorHandshake(node: .random(), secret: try wrong.load(), maxFramePayload: 1 << 20)
            try raw.write(tcpWireFrame(FrameHeader(kind: .hello), payload: hello.firstFrame().payload))
            try raw.write(tcpWireFrame(FrameHeader(kind: .auth), payload: [UInt8](repeating: 7, count: 32)))
            #expect(raw.readUntilClosed() != nil)
            #expect(pair.serverLog.wait(for: "proof does not match"))
            // Someone with the right secret still gets in.
            let rightSecret = try right.load()
            let good = TCPTransport(context: TransportContext(runtime: pair.clientRuntime, secret: rightSecret))
            let connection = try good.connect(to: listener.address, options: ConnectionOptions(), handler: CollectingHandler())
            try connection.send([5])
            #expect(received.wait { $0.frameCount == 1 })
            #expect(received.closedConnections.isEmpty, "refused peers never reach a handler")
            connection.close()
        }

        /// One side with a secret, one without: refused, and the connector is told why.
        @Test func secretOnOneSideOnlyIsRefused() throws {
            let file = try TCPSecretFile()
            defer { file.remove() }
            let pair = try TCPPair(serverSecret: try file.load(), clientSecret: nil)
            defer { pair.shutdown() }
            let listener = try pair.listen { _ in CollectingHandler() }
            defer { listener.close() }
            do {
                _ = try pair.connect(to: listener)
                Issue.record("a connector without the secret got in")
            } catch {
                #expect("\(error)".contains("cluster secret"), "\(error)")
            }
            #expect(pair.serverLog.wait(for: "refusing TCP connection"))

            let open = try TCPPair(serverSecret: nil, clientSecret: try file.load())
            defer { open.shutdown() }
            let openListener = try open.listen { _ in CollectingHandler() }
            defer { openListener.close() }
            #expect(throws: TransportError.self) { _ = try open.connect(to: openListener) }
        }

        @Test func secretFileReadableByOthersIsRefused() async throws {
            let file = try TCPSecretFile(mode: 0o644)
            defer { file.remove() }
            do {
                _ = try file.load()
                Issue.record("a world-readable secret file was accepted")
            } catch {
                #expect("\(error)".contains("readable by other users"))
                #expect("\(error)".contains("chmod 600"))
            }
            let loader = try await ConfigurationLoader.load(flags: ["secret-file": file.path], environment: [:])
            let runtime = try IORuntime(progress: .sleep, name: "tcp-perm")
            defer { runtime.shutdown() }
            do {
                _ = try TCPTransportModule.descriptor.make(TransportContext(runtime: runtime), try WeftConfiguration(loader))
                Issue.record("the transport was made with a world-readable secret file")
            } catch {
                #expect("\(error)".contains("chmod 600"))
            }
        }

        /// Without a secret, only loopback: anything else fails with one sentence naming the fix.
        @Test func nonLoopbackListenWithoutSecretFails() throws {
            let pair = try TCPPair()
            defer { pair.shutdown() }
            for address in ["0.0.0.0:0", "[::]:0"] {
                do {
                    let listener = try pair.server.listen(at: address, options: ConnectionOptions()) { _ in CollectingHandler() }
                    listener.close()
                    Issue.record("listened on \(address) without a secret")
                } catch {
                    guard case .unavailable(let sentence) = error else {
                        Issue.record("expected unavailable, got \(error)")
                        continue
                    }
                    #expect(sentence.contains("--secret-file"))
                    #expect(sentence.contains("WEFT_SECRET_FILE"))
                    #expect(sentence.hasSuffix(".") && !sentence.dropLast().contains(". "), "one sentence: \(sentence)")
                }
            }
            // Loopback in all its spellings is fine.
            for address in ["127.0.0.1:0", "127.0.0.2:0", "[::1]:0", "localhost:0"] {
                let listener = try pair.listen(at: address) { _ in CollectingHandler() }
                listener.close()
            }
        }
    }
}
