// What a user's test does with testcontainers for Node against our Docker
// API socket (DOCKER_HOST): a container from IMAGE with an exposed port,
// waited for by a log line, reached through its mapped port, its logs read,
// an exec's output and code, then stopped. A second container is left
// running on purpose: the reaper (RYUK_CONTAINER_IMAGE) must remove it once
// this process has gone. Prints one JSON line of what it saw.
const { GenericContainer, Wait } = require("testcontainers");

async function main() {
  // testcontainers unrefs its log streams' sockets: without a handle of our
  // own, node would end, silently, while waiting on one.
  const alive = setInterval(() => {}, 1000);
  const web = await new GenericContainer(process.env.IMAGE)
    .withExposedPorts(8080)
    .withCommand(["sh", "-c", "mkdir -p /tmp/www && echo hello-from-testcontainers > /tmp/www/index.html && " +
                              "echo ready && exec busybox httpd -f -p 8080 -h /tmp/www"])
    .withWaitStrategy(Wait.forLogMessage("ready"))
    .start();
  const url = `http://${web.getHost()}:${web.getMappedPort(8080)}/`;
  const body = await (await fetch(url)).text();
  const logs = await new Promise((resolve, reject) => {
    let text = "";
    web.logs().then((s) => s.on("data", (d) => {
      text += d;
      if (text.includes("ready")) resolve(text.trim());
    }).on("end", () => reject(new Error(`the log stream ended with ${JSON.stringify(text)}`))).on("error", reject), reject);
  });
  const exec = await web.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
  // The default wait strategy: the port, from outside and from inside (by exec).
  const plain = await new GenericContainer(process.env.IMAGE).withExposedPorts(8081)
    .withCommand(["busybox", "httpd", "-f", "-p", "8081", "-h", "/"]).start();
  await plain.stop();
  const left = await new GenericContainer(process.env.IMAGE).withCommand(["sleep", "600"]).start();
  await web.stop();
  console.log(JSON.stringify({ body, logs, exec, left: left.getId() }));
  clearInterval(alive);
}

main().catch((e) => {
  console.error("FAILED", e);
  process.exit(1);
});
