// Publishes JSON messages to an MQTT broker at QoS 0: MQTT 3.1.1's CONNECT, PUBLISH and
// DISCONNECT packets written over a TCP socket, which is all these tests need of a client.

const net = require("node:net");

/** A packet: its type byte, the remaining length (variable-length encoded), the body. */
function packet(type, body) {
  const length = [];
  let left = body.length;
  do {
    let byte = left % 128;
    left = Math.floor(left / 128);
    if (left > 0) byte |= 0x80;
    length.push(byte);
  } while (left > 0);
  return Buffer.concat([Buffer.from([type, ...length]), body]);
}

/** A UTF-8 string with its 2-byte length. */
function text(value) {
  const bytes = Buffer.from(value, "utf8");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function connect(clientId) {
  // Protocol "MQTT" level 4, clean session, keep-alive 30 s.
  const header = Buffer.concat([text("MQTT"), Buffer.from([4, 0x02, 0, 30])]);
  return packet(0x10, Buffer.concat([header, text(clientId)]));
}

/** Connects to `url` (`tcp://host:port`); resolves once the broker accepted the connection
 * to `{ publish(topic, object), close() }`. */
function mqttClient(url) {
  const { hostname, port } = new URL(url.replace(/^tcp:/, "mqtt:"));
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port || 1883), hostname);
    socket.once("error", reject);
    socket.once("connect", () => socket.write(connect(`veloflux-console-test-${process.pid}`)));
    socket.once("data", (answer) => {
      // CONNACK: 0x20, 2, flags, return code 0 when accepted.
      if (answer[0] !== 0x20 || answer[3] !== 0) {
        reject(new Error(`the broker refused the connection: ${answer.toString("hex")}`));
        socket.destroy();
        return;
      }
      resolve({
        publish: (topic, message) =>
          socket.write(
            packet(0x30, Buffer.concat([text(topic), Buffer.from(JSON.stringify(message))])),
          ),
        close: () => new Promise((done) => socket.end(packet(0xe0, Buffer.alloc(0)), done)),
      });
    });
  });
}

module.exports = { mqttClient };
