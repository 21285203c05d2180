// The consumer test's app (test/consumer/consumer.test.ts): what the README's Install section
// shows, written against the installed packages only.
import { Controller, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { ClientsModule, Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import {
  PlumtreeClient,
  PlumtreeContext,
  PlumtreeModule,
  PlumtreeSubscribe,
} from '@plumtree/nestjs';

export const CLIENT = 'PLUMTREE_CLIENT';

/** One JSON line on stdout per thing the test checks. */
export function report(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

@Injectable()
export class GreetingsListener {
  @PlumtreeSubscribe('greetings')
  onGreeting(@Payload() greeting: { text: string }, @Ctx() ctx: PlumtreeContext): void {
    report({ event: 'greeting', origin: ctx.getOrigin(), text: greeting.text });
  }
}

@Controller()
export class SumController {
  @MessagePattern('math.sum')
  sum(@Payload() numbers: number[], @Ctx() ctx: PlumtreeContext): { sum: number; topic: string } {
    return { sum: numbers.reduce((a, b) => a + b, 0), topic: ctx.getTopic() };
  }
}

@Module({})
export class AppModule {
  /** A node named `name`; `answers` adds the `math.sum` responder. */
  static forRoot(name: string, answers: boolean): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlumtreeModule.forRoot({ shareServer: true, name }),
        ClientsModule.register([
          { name: CLIENT, customClass: PlumtreeClient, options: { shareServer: true, name } },
        ]),
      ],
      controllers: answers ? [SumController] : [],
      providers: [GreetingsListener],
    };
  }
}
