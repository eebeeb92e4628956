# aerec serve in a container: the model file is mounted at /models/model.safetensors, ratings go to the
# SQLite file in /data (a volume) unless --db names a PostgreSQL database.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev && npm rebuild better-sqlite3

FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
COPY --from=build /app/web/dist ./web/dist
RUN mkdir /data && chown node /data
USER node
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli/main.js", "serve", "--model-file", "/models/model.safetensors", "--host", "0.0.0.0", "--port", "8080", "--db", "/data/ratings.db"]
