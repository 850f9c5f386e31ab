const http = require("node:http");
const { health } = require("./routes/health");

http.createServer((req, res) => health(req, res)).listen(3000);
