// node health/dist/main.js: the terminus indicator from the subpath `@plumtree/nestjs/health`, in
// the consumer app once it installed `@nestjs/terminus` (an optional peer: the main app runs
// without it). One node with `PlumtreeModule`, alone, so `minMembers: 1`; prints the result.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { PlumtreeModule } from '@plumtree/nestjs';
import { PlumtreeHealthIndicator } from '@plumtree/nestjs/health';

@Module({
  imports: [
    TerminusModule,
    PlumtreeModule.forRoot({
      name: 'health',
      bindAddr: '127.0.0.1',
      bindPort: 0,
      persistence: false,
      swim: { preset: 'local' },
    }),
  ],
  providers: [PlumtreeHealthIndicator],
})
class HealthModule {}

const app = await NestFactory.createApplicationContext(HealthModule, { logger: ['error', 'warn'] });
const result = app.get(PlumtreeHealthIndicator).isHealthy('plumtree', { minMembers: 1 });
process.stdout.write(`${JSON.stringify(result)}\n`);
await app.close();
