# The hub, for machines with Docker (docker-compose.yml). Runs TypeScript directly with tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
EXPOSE 8080
CMD ["node", "bin/metodehub.mjs", "run"]
